//! The run's memory of recent requests: each request seen in the window and
//! its last event. Every request of the input passes through it once a
//! chunk, on the serial absorbing path, and its table outgrows the caches
//! (3 MB for a 190 MB log), so it is an open-addressing table whose slots
//! are prefetched a batch ahead of their lookups: a hash map's lookup waits
//! for each cache miss in turn.

use super::counts::RequestId;

/// A request the run has seen in its window: the global number of its
/// last event, shifted left one bit, and in the low bit whether a terminal
/// stage was seen (it is not in flight). One word: the table holds a
/// window's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Recent(u64);

impl Recent {
    pub(super) fn new(last: u64, done: bool) -> Recent {
        Recent((last << 1) | u64::from(done))
    }

    pub(super) fn last(self) -> u64 {
        self.0 >> 1
    }

    pub(super) fn done(self) -> bool {
        self.0 & 1 != 0
    }
}

/// One slot: a request's key, and its [`Recent`] plus one (0: empty), so
/// that a table of zeroed words is an empty one.
type Slot = [u64; 3];

fn key(slot: &Slot) -> [u64; 2] {
    [slot[0], slot[1]]
}

/// Slots looked up ahead of the one being settled.
const PREFETCH_AHEAD: usize = 8;

/// Requests by key, with linear probing in a power-of-two table at most
/// three-quarters full. Entries leave only by [`RecentRequests::retain`],
/// which rebuilds the table.
#[derive(Debug, Clone, Default)]
pub(super) struct RecentRequests {
    slots: Vec<Slot>,
    len: usize,
}

impl RecentRequests {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The table's size in memory.
    pub(super) fn bytes(&self) -> usize {
        std::mem::size_of_val(self.slots.as_slice())
    }

    /// The slot where probing for `id` starts: the key's words folded and
    /// spread by a Fibonacci multiply (a UUID's bits are random already).
    fn home(&self, id: RequestId) -> usize {
        let folded = id.0[0] ^ id.0[1].rotate_left(32);
        let spread = folded.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (spread >> (64 - self.slots.len().trailing_zeros())) as usize
    }

    /// Whether `more` requests fit beside those held within the table's
    /// load limit (three-quarters full).
    pub(super) fn fits(&self, more: usize) -> bool {
        (self.len + more).saturating_mul(4) < self.slots.len().saturating_mul(3)
    }

    /// Makes room for `more` requests beyond those held.
    pub(super) fn reserve(&mut self, more: usize) {
        if !self.fits(more) {
            let want = (self.len + more).saturating_mul(4) / 3 + 1;
            self.rebuild(want.next_power_of_two().max(16), |_| true);
        }
    }

    /// Grows the table, if need be, until `more` requests beside those held
    /// fill at most half of it.
    pub(super) fn reserve_half(&mut self, more: usize) {
        let want = (self.len + more).saturating_mul(2);
        if want > self.slots.len() {
            self.rebuild(want.next_power_of_two().max(16), |_| true);
        }
    }

    /// Moves the requests that `keep` keeps into a table of `capacity`
    /// slots.
    fn rebuild(&mut self, capacity: usize, mut keep: impl FnMut(Recent) -> bool) {
        // Lookups land on random pages, each first touch a page fault:
        // mapped in by one call before they are zeroed. (Zeroed first, as
        // the allocator zeroes memory it cannot vouch for, they fault in
        // one by one: 1.7 against 1.0 ms for 3.1 MB.)
        let mut fresh: Vec<Slot> = Vec::with_capacity(capacity);
        crate::pages::populate(fresh.spare_capacity_mut());
        fresh.resize(capacity, [0; 3]);
        let old = std::mem::replace(&mut self.slots, fresh);
        self.len = 0;
        for slot in old {
            if slot[2] != 0 && keep(Recent(slot[2] - 1)) {
                let at = self.probe(RequestId(key(&slot)));
                self.slots[at] = slot;
                self.len += 1;
            }
        }
    }

    /// The slot that holds `id`, or the empty one where it would go.
    fn probe(&self, id: RequestId) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = self.home(id);
        while self.slots[at][2] != 0 && key(&self.slots[at]) != id.0 {
            at = (at + 1) & mask;
        }
        at
    }

    /// Hints the cache to fetch `id`'s home slot.
    #[inline(always)]
    fn prefetch(&self, id: RequestId) {
        #[cfg(target_arch = "x86_64")]
        {
            let at = self.home(id);
            // SAFETY: `at` < slots.len(); a prefetch reads nothing and
            // never faults.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    self.slots.as_ptr().add(at).cast(),
                )
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = id;
    }

    /// For each of `ids` in turn: calls `settle` with what the table held
    /// of it (if anything) and stores what `settle` returns. The slots of
    /// the ids a few places ahead are prefetched meanwhile.
    pub(super) fn settle_each(
        &mut self,
        ids: &[RequestId],
        mut settle: impl FnMut(usize, Option<Recent>) -> Recent,
    ) {
        self.reserve(ids.len());
        for id in ids.iter().take(PREFETCH_AHEAD) {
            self.prefetch(*id);
        }
        for (i, &id) in ids.iter().enumerate() {
            if let Some(ahead) = ids.get(i + PREFETCH_AHEAD) {
                self.prefetch(*ahead);
            }
            let at = self.probe(id);
            let known = (self.slots[at][2] != 0).then(|| Recent(self.slots[at][2] - 1));
            let latest = settle(i, known);
            self.slots[at] = [id.0[0], id.0[1], latest.0 + 1];
            if known.is_none() {
                self.len += 1;
            }
        }
    }

    /// Holds `id` as `recent`.
    pub(super) fn insert(&mut self, id: RequestId, recent: Recent) {
        self.reserve(1);
        let at = self.probe(id);
        if self.slots[at][2] == 0 {
            self.len += 1;
        }
        self.slots[at] = [id.0[0], id.0[1], recent.0 + 1];
    }

    /// Keeps the requests `keep` keeps, in place: the table's memory is
    /// reused, not allocated afresh (fresh pages fault in one by one, and
    /// were most of what remembering requests cost).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(Recent) -> bool) {
        // A slot empty before the drops: the walk that closes the gaps
        // starts past it (there is one: the table is at most 3/4 full).
        let Some(empty) = self.slots.iter().position(|s| s[2] == 0) else {
            return;
        };
        let mut dropped = 0;
        for slot in &mut self.slots {
            if slot[2] != 0 && !keep(Recent(slot[2] - 1)) {
                *slot = [0; 3];
                dropped += 1;
            }
        }
        if dropped == 0 {
            return;
        }
        self.len -= dropped;
        self.close_gaps(empty);
        // Shrunk when the kept fit a quarter of the table, so a burst does
        // not hold its memory for ever.
        if self.len * 4 < self.slots.len() / 4 && self.slots.len() > 16 {
            let fit = (self.len * 4 / 3 + 1).next_power_of_two().max(16);
            self.rebuild(fit, |_| true);
        }
    }

    /// Moves each request back to the first free slot from its home, after
    /// requests were dropped, so that no probe stops at a gap before the
    /// request it looks for. The walk starts past `empty`, a slot that was
    /// empty before the drops, so that it meets each run of slots occupied
    /// before the drops from that run's start: a request never leaves its
    /// run (it moves back towards its home), and the slots from its home to
    /// where it lands hold requests the walk placed before it, which do not
    /// move again. (From a slot a drop freed, the walk would start in a
    /// run's middle, and that argument would not hold.)
    fn close_gaps(&mut self, empty: usize) {
        let mask = self.slots.len() - 1;
        for step in 1..=self.slots.len() {
            let at = (empty + step) & mask;
            let slot = self.slots[at];
            if slot[2] == 0 {
                continue;
            }
            self.slots[at] = [0; 3];
            let to = self.probe(RequestId(key(&slot)));
            self.slots[to] = slot;
        }
    }

    /// Every request held.
    pub(super) fn iter(&self) -> impl Iterator<Item = (RequestId, Recent)> + '_ {
        self.slots
            .iter()
            .filter(|s| s[2] != 0)
            .map(|s| (RequestId(key(s)), Recent(s[2] - 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a std map, through inserts, settles, growth and sweeps.
    #[test]
    fn holds_what_a_map_holds() {
        let mut table = RecentRequests::default();
        let mut map = std::collections::HashMap::new();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..200u64 {
            // Few distinct keys, so that most are seen again.
            let ids: Vec<RequestId> = (0..50).map(|_| RequestId([next() % 3000, 7])).collect();
            let mut unique = ids.clone();
            unique.sort_by_key(|id| id.0);
            unique.dedup();
            table.settle_each(&unique, |i, known| {
                assert_eq!(known, map.get(&unique[i].0).copied(), "{round}");
                Recent::new(round, i % 2 == 0)
            });
            for (i, id) in unique.iter().enumerate() {
                map.insert(id.0, Recent::new(round, i % 2 == 0));
            }
            if round % 17 == 0 {
                table.retain(|r| r.last() + 5 > round);
                map.retain(|_, r| r.last() + 5 > round);
            }
            assert_eq!(table.len(), map.len());
            let mut held: Vec<_> = table.iter().map(|(id, r)| (id.0, r)).collect();
            held.sort_by_key(|(k, _)| *k);
            let mut want: Vec<_> = map.iter().map(|(k, r)| (*k, *r)).collect();
            want.sort_by_key(|(k, _)| *k);
            assert_eq!(held, want);
        }
    }

    /// Dropping requests from a run of slots that wraps past the table's
    /// end leaves every other request findable, and in its first free slot
    /// from home.
    #[test]
    fn drops_close_gaps_across_the_end() {
        let mut table = RecentRequests::default();
        table.reserve(1);
        let last = table.slots.len() - 1;
        // Five requests at home in the last slot: they take it and wrap
        // to the first four.
        let ids: Vec<RequestId> = (0u64..)
            .map(|n| RequestId([n, 1]))
            .filter(|&id| table.home(id) == last)
            .take(5)
            .collect();
        for (n, &id) in ids.iter().enumerate() {
            table.insert(id, Recent::new(n as u64, false));
        }
        assert_eq!(table.probe(ids[4]), 3);
        table.retain(|r| r.last() % 2 == 1);
        assert_eq!(table.len(), 2);
        // The two kept fill the run's first two slots, from its home.
        let mut at = [table.probe(ids[1]), table.probe(ids[3])];
        at.sort_unstable();
        assert_eq!(at, [0, last]);
        assert_eq!(table.probe(ids[0]), 1);
        let mut held: Vec<u64> = table.iter().map(|(_, r)| r.last()).collect();
        held.sort_unstable();
        assert_eq!(held, [1, 3]);
    }

    /// A run of slots that wraps past the table's end, with the lowest free
    /// slot after the drops in its middle: every kept request stays
    /// findable.
    #[test]
    fn drops_in_a_wrapped_run_keep_every_request_findable() {
        let mut table = RecentRequests::default();
        table.reserve(1);
        let n = table.slots.len();
        let homed = |home: usize, skip: u64| {
            (skip..)
                .map(|k| RequestId([k, 2]))
                .filter(|&id| table.home(id) == home)
                .take(4)
                .collect::<Vec<_>>()
        };
        let at_13 = homed(n - 3, 0);
        let e = homed(n - 1, 0)[0];
        // Slots n-3, n-2, n-1, 0 hold requests at home in n-3; e, at home
        // in n-1, lands in 1.
        let (w, g, x, f) = (at_13[0], at_13[1], at_13[2], at_13[3]);
        for (n, id) in [w, g, x, f, e].into_iter().enumerate() {
            table.insert(id, Recent::new(n as u64, false));
        }
        assert_eq!(table.probe(e), 1);
        // Drop g (slot n-2) and f (slot 0).
        table.retain(|r| r.last() != 1 && r.last() != 3);
        assert_eq!(table.len(), 3);
        for (id, last) in [(w, 0), (x, 2), (e, 4)] {
            let at = table.probe(id);
            assert_eq!(table.slots[at][2], Recent::new(last, false).0 + 1, "{last}");
        }
    }
}
