//! Protection for memory-mapped inputs against truncation while they are read.
//!
//! Reading a page of a mapped file that has since been truncated raises
//! SIGBUS, which kills the process without a word (logrotate's
//! `copytruncate` does exactly that to a live `audit.log`). While an input is
//! scanned its mapping is registered here; a SIGBUS handler that finds the
//! faulting address inside a registered mapping puts a zero-filled page over
//! it (an anonymous `MAP_FIXED` mapping), marks the mapping as faulted and
//! returns, so the scan runs on and the pipeline reports the file as
//! truncated: one error line naming it, exit status 2, no output written.
//! A SIGBUS at any other address gets the default action back.
//!
//! The handler touches only atomics and calls only `mmap` and `sigaction`
//! (plain system calls on Linux), as a signal handler must.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

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

/// A registered mapping; unregistered on drop.
#[derive(Debug)]
pub struct Guard {
    slot: usize,
}

impl Guard {
    /// Registers `bytes` (a mapping) with the SIGBUS handler, installing the
    /// handler on first use. None when every slot is taken.
    pub fn new(bytes: &[u8]) -> Option<Guard> {
        install();
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
fn install() {
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
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

#[cfg(not(unix))]
fn install() {}

#[cfg(unix)]
extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
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
    // Not a guarded mapping: let the fault take its default course.
    // SAFETY: restoring the default disposition is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}
