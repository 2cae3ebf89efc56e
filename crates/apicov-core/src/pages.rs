//! Memory faulted in a whole buffer at a time. A fresh buffer's pages fault
//! in one by one as they are first touched; a buffer about to be filled
//! (a document read) or written at random (a hash table) is cheaper mapped
//! in one call.

/// Maps in the whole pages of `buffer`, writable, with one
/// `MADV_POPULATE_WRITE` (Linux 5.14); elsewhere, or where the kernel lacks
/// it, the pages fault in as they are used. Best effort: no byte changes.
pub fn populate<T>(buffer: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = buffer.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(buffer);
        let (first, last) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
        if last > first {
            // SAFETY: [first, last) lies inside `buffer`, which this function
            // borrows mutably; MADV_POPULATE_WRITE only maps its pages in and
            // changes no byte of them.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}
