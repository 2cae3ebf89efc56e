//! Protection for memory-mapped inputs against truncation while they are read.
//!
//! Reading a page of a mapped file that has since been truncated raises
//! SIGBUS, which kills the process without a word (logrotate's
//! `copytruncate` does exactly that to a live `audit.log`). While an input is
//! scanned its mapping is registered here; a SIGBUS handler that finds the
//! faulting address inside a registered mapping puts a zero-filled page over
//! it (an anonymous `MAP_FIXED` mapping), marks the mapping as faulted and
//! returns, so the scan runs on and the pipeline reports the file as
//! truncated ([`crate::Error::Truncated`]). A SIGBUS at any other address
//! goes to the handler installed before this one, or gets the default
//! action back.
//!
//! The handler is process-wide, so installing it is the program's choice:
//! [`install`] (the `apicov` binary calls it first thing). Until then no
//! mapping is guarded, and a file truncated while the engine reads it
//! kills the process with SIGBUS, as in any program that maps files.
//!
//! The handler touches only atomics and calls only `mmap` and `sigaction`
//! (plain system calls on Linux), as a signal handler must.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

/// Mappings guarded at once. The pipeline guards one input at a time (and
/// `history` one run at a time); an input that finds no free slot is read as
/// a stream instead.
const SLOTS: usize = 64;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
    taken: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
    taken: AtomicBool::new(false),
};

static SLOT_TABLE: [Slot; SLOTS] = [FREE; SLOTS];
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
/// Set once the handler is installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The SIGBUS disposition before [`install`], for faults that are not ours.
#[cfg(unix)]
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// Installs the SIGBUS handler that guards mappings, once per process; a
/// fault outside a guarded mapping is passed to the handler that was there
/// before. Mappings are guarded only after this (see the module docs).
/// Returns whether the handler is installed (not on platforms without
/// signals).
pub fn install() -> bool {
    #[cfg(unix)]
    INSTALL.call_once(|| {
        // SAFETY: sysconf and sigaction with a handler that is
        // async-signal-safe (see the module docs).
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE_SIZE.store(page as usize, Ordering::Release);
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                let _ = PREVIOUS.set(previous);
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
    installed()
}

/// Whether [`install`] has installed the handler: mappings can be guarded.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Acquire)
}

/// A registered mapping; unregistered on drop.
#[derive(Debug)]
pub struct Guard {
    slot: usize,
}

impl Guard {
    /// Registers `bytes` (a mapping) with the SIGBUS handler. None when the
    /// handler is not [`install`]ed, or every slot is taken.
    pub fn new(bytes: &[u8]) -> Option<Guard> {
        if !installed() {
            return None;
        }
        for (index, slot) in SLOT_TABLE.iter().enumerate() {
            if slot
                .taken
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                slot.faulted.store(false, Ordering::Release);
                slot.start.store(bytes.as_ptr() as usize, Ordering::Release);
                slot.len.store(bytes.len(), Ordering::Release);
                return Some(Guard { slot: index });
            }
        }
        None
    }

    /// A read of the mapping hit a page past the file's end (the file was
    /// truncated while mapped); what was read there is zeros.
    pub fn faulted(&self) -> bool {
        SLOT_TABLE[self.slot].faulted.load(Ordering::Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let slot = &SLOT_TABLE[self.slot];
        slot.len.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
        slot.taken.store(false, Ordering::Release);
    }
}

#[cfg(unix)]
extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE_SIZE.load(Ordering::Acquire);
    for slot in &SLOT_TABLE {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        if len == 0 || addr < start || addr >= start + len {
            continue;
        }
        let page_start = addr & !(page - 1);
        // SAFETY: replaces one page inside a read-only mapping this process
        // owns (registered above) with zeros; nothing else points there.
        let mapped = unsafe {
            libc::mmap(
                page_start as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if mapped != libc::MAP_FAILED {
            slot.faulted.store(true, Ordering::Release);
            return;
        }
    }
    // Not a guarded mapping: to the handler before ours, or the default.
    // SAFETY: calls the previous handler as the kernel would have, or
    // restores the default disposition (async-signal-safe).
    unsafe {
        if let Some(previous) = PREVIOUS.get() {
            let handler = previous.sa_sigaction;
            if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    let chained: extern "C" fn(
                        libc::c_int,
                        *mut libc::siginfo_t,
                        *mut libc::c_void,
                    ) = std::mem::transmute(handler);
                    chained(sig, info, ctx);
                } else {
                    let chained: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                    chained(sig);
                }
                return;
            }
        }
        // A memory fault ignored would fault again forever: default.
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;

    static CHAINED: AtomicUsize = AtomicUsize::new(0);

    /// A handler installed before the guard: puts a page of zeros over the
    /// fault, as the guard does, and counts.
    extern "C" fn earlier(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
        // SAFETY: as in `on_sigbus`.
        unsafe {
            let addr = (*info).si_addr() as usize;
            let page = PAGE_SIZE.load(Ordering::Acquire);
            libc::mmap(
                (addr & !(page - 1)) as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            );
        }
        CHAINED.fetch_add(1, Ordering::SeqCst);
    }

    /// A mapping of a file of two pages, truncated to nothing: reading its
    /// second page faults.
    fn truncated_mapping() -> (tempfile::TempDir, memmap2::Mmap) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&vec![b'x'; 2 << 12]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: read only under the handlers of this test.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        (dir, map)
    }

    /// The one test here that touches SIGBUS: the guard is installed over
    /// an earlier handler, takes the faults in guarded mappings and passes
    /// the others on.
    #[test]
    fn faults_outside_guarded_mappings_go_to_the_earlier_handler() {
        assert!(!installed());
        assert!(Guard::new(b"not guarded before install").is_none());
        // SAFETY: a handler that only maps a page and counts.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = earlier as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
                0
            );
        }
        assert!(install());

        let (_dir, unguarded) = truncated_mapping();
        // SAFETY: the fault this read raises is handled by `earlier`.
        let byte = unsafe { std::ptr::read_volatile(unguarded.as_ptr().add(4096)) };
        assert_eq!((byte, CHAINED.load(Ordering::SeqCst)), (0, 1));

        let (_dir, guarded) = truncated_mapping();
        let guard = Guard::new(&guarded).expect("a free slot");
        // SAFETY: the fault this read raises is handled by the guard.
        let byte = unsafe { std::ptr::read_volatile(guarded.as_ptr().add(4096)) };
        assert_eq!((byte, guard.faulted()), (0, true));
        assert_eq!(CHAINED.load(Ordering::SeqCst), 1);
    }
}
