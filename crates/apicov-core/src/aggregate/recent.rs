//! The run's memory of recent requests: each request seen in the window and
//! what the run knows of it. Every request of the input passes through it
//! once a chunk, on the serial absorbing path, so it is built for lookups
//! that mostly find nothing (a request's events mostly fall in one chunk).
//!
//! Two parts:
//! - The records: a ring of each request's key and [`Recent`], appended a
//!   chunk at a time in input order, and dropped a chunk at a time once none
//!   of the chunk's requests has an event in the window. Sequential writes
//!   into memory mapped in once and reused.
//! - The table: one word a request, its tag (31 bits of its key's hash) and
//!   the number of its latest record, found by linear probing. A lookup
//!   reads a request's record only when a tag matches, so what lookups
//!   touch at random is a third of a table of keys and states: at 760 MiB
//!   of a log with custom resources, 4.2 MB of tags and 3.3 MB of records
//!   against 12.6 MB, and a tenth as much for a log of large bodies, whose
//!   memory is sized by its first chunk (see `Tally::size_for_input`).
//!
//! A slot whose record was dropped is stale: no lookup finds it, a request
//! put in the table takes the first stale slot on its way, and the next
//! sweep ([`RecentRequests::drop_stale`]) empties the others.

use std::collections::VecDeque;

use super::counts::{RequestId, Window};

/// A request the run has seen in its window: the global number of its
/// last event, shifted left one bit, and in the low bit whether a terminal
/// stage was seen (it is not in flight). One word: the records hold a
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

/// A slot of the table: a request's tag in the high half (never 0), and
/// the low 32 bits of its latest record's number in the low half; 0 when
/// empty, so that a table of zeroed words is an empty one. The records held
/// span fewer than 2^31 numbers (the window is at most [`Window::MAX`], and a
/// chunk's requests are far fewer), and every stale slot is emptied within
/// 2^31 records ([`SWEEP_EVERY`]), so a slot's 32 bits name one record.
type Slot = u64;

/// Records numbered between two sweeps of stale slots, at most.
const SWEEP_EVERY: u64 = 1 << 31;

/// A key's hash: its top bits pick the home slot; its top 31 bits, with
/// the low bit set, are its tag. The key's words are folded and spread by a
/// Fibonacci multiply (a UUID's bits are random already).
fn hash(id: RequestId) -> u64 {
    let folded = id.0[0] ^ id.0[1].rotate_left(32);
    folded.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn tag(hash: u64) -> u64 {
    (hash >> 32) | 1
}

/// Slots looked up ahead of the one being settled.
const PREFETCH_AHEAD: usize = 8;

/// A record: a request's key (two words) and its [`Recent`].
type Record = [u64; 3];

/// Requests by key: records in input order, and a table of tags with
/// linear probing in a power-of-two table at most three-quarters full.
/// A stale slot is taken by a request put in, or emptied by
/// [`RecentRequests::drop_stale`] (in place) or a rebuild.
#[derive(Debug, Clone, Default)]
pub(super) struct RecentRequests {
    slots: Vec<Slot>,
    /// Occupied slots, stale ones included.
    len: usize,
    /// A ring: the record numbered `n` is at `n % records.len()`.
    records: Vec<Record>,
    /// The chunks whose records are held, oldest first: the number of each
    /// one's first record, and the latest last event among its requests
    /// (once that is out of the window, so are they all).
    chunks: VecDeque<(u64, u64)>,
    /// The number of the oldest record held.
    oldest: u64,
    /// The number of the next record.
    next: u64,
    /// `next` at the last sweep of stale slots.
    swept: u64,
}

impl RecentRequests {
    /// Slots occupied, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The table's and the records' size in memory.
    pub(super) fn bytes(&self) -> usize {
        std::mem::size_of_val(self.slots.as_slice())
            + std::mem::size_of_val(self.records.as_slice())
    }

    /// The slot where probing for a hash starts.
    fn home(&self, hash: u64) -> usize {
        (hash >> (64 - self.slots.len().trailing_zeros())) as usize
    }

    /// The home of the request in `slot`: its tag holds the hash's top 31
    /// bits, and a table has fewer than 2^31 slots.
    fn home_of_slot(&self, slot: Slot) -> usize {
        self.home(slot & !((1 << 33) - 1))
    }

    /// Whether `more` requests fit beside those held within the table's
    /// load limit (three-quarters full).
    pub(super) fn fits(&self, more: usize) -> bool {
        (self.len + more).saturating_mul(4) < self.slots.len().saturating_mul(3)
    }

    /// Makes room for `more` requests beyond those held, in the table and
    /// in the records.
    pub(super) fn reserve(&mut self, more: usize) {
        self.reserve_slots(more);
        let held = (self.next - self.oldest) as usize;
        if held + more > self.records.len() {
            self.grow_records((held + more).max(2 * self.records.len()));
        }
    }

    /// Makes room for `slots` requests in the table and `records` in the
    /// records, all told: what an input is expected to need.
    pub(super) fn expect(&mut self, slots: usize, records: usize) {
        self.reserve_slots(slots.saturating_sub(self.len));
        if records > self.records.len() {
            self.grow_records(records);
        }
    }

    /// Makes room in the table for `more` requests beyond those held.
    fn reserve_slots(&mut self, more: usize) {
        if !self.fits(more) {
            let want = (self.len + more).saturating_mul(4) / 3 + 1;
            self.rebuild(want.next_power_of_two().max(16));
        }
    }

    /// Moves the records held into a ring of `capacity`.
    fn grow_records(&mut self, capacity: usize) {
        let mut fresh: Vec<Record> = Vec::with_capacity(capacity);
        crate::pages::populate(fresh.spare_capacity_mut());
        fresh.resize(capacity, [0; 3]);
        for number in self.oldest..self.next {
            fresh[(number % capacity as u64) as usize] = self.records[self.at(number)];
        }
        self.records = fresh;
    }

    /// Where the record numbered `number` is in the ring.
    fn at(&self, number: u64) -> usize {
        (number % self.records.len() as u64) as usize
    }

    /// Grows the table, if need be, until `more` requests beside those held
    /// fill at most half of it.
    pub(super) fn reserve_half(&mut self, more: usize) {
        let want = (self.len + more).saturating_mul(2);
        if want > self.slots.len() {
            self.rebuild(want.next_power_of_two().max(16));
        }
    }

    /// Moves the live slots into a table of `capacity` slots.
    fn rebuild(&mut self, capacity: usize) {
        // Lookups land on random pages, each first touch a page fault:
        // mapped in by one call before they are zeroed. (Zeroed first, as
        // the allocator zeroes memory it cannot vouch for, they fault in
        // one by one: 1.7 against 1.0 ms for 3.1 MB.)
        let mut fresh: Vec<Slot> = Vec::with_capacity(capacity);
        crate::pages::populate(fresh.spare_capacity_mut());
        fresh.resize(capacity, 0);
        let old = std::mem::replace(&mut self.slots, fresh);
        self.len = 0;
        for slot in old {
            if slot == 0 || !self.live(slot) {
                continue;
            }
            let at = self.free_slot_from(self.home_of_slot(slot));
            self.slots[at] = slot;
            self.len += 1;
        }
    }

    /// The first empty slot from `at` on.
    fn free_slot_from(&self, mut at: usize) -> usize {
        let mask = self.slots.len() - 1;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        at
    }

    /// The record numbered `number` (its low 32 bits), if it is held: its
    /// key and what the run knows of it.
    fn record(&self, number: u32) -> Option<(RequestId, Recent)> {
        let number = self.oldest + u64::from(number.wrapping_sub(self.oldest as u32));
        if number >= self.next {
            return None;
        }
        let [a, b, recent] = self.records[self.at(number)];
        Some((RequestId([a, b]), Recent(recent)))
    }

    /// The slot that holds `id` and what it holds, or the slot where `id`
    /// would go: the first stale slot on its way, else the empty slot that
    /// ends it. Only a slot with `id`'s tag has its record read.
    fn find(&self, id: RequestId, hash: u64) -> (usize, Option<Recent>) {
        let mask = self.slots.len() - 1;
        let tag = tag(hash);
        let mut at = self.home(hash);
        let mut stale = None;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return (stale.unwrap_or(at), None);
            }
            if !self.live(slot) {
                stale = stale.or(Some(at));
            } else if slot >> 32 == tag {
                if let Some((key, recent)) = self.record(slot as u32) {
                    if key == id {
                        return (at, Some(recent));
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Hints the cache to fetch `id`'s home slot.
    #[inline(always)]
    fn prefetch(&self, id: RequestId) {
        #[cfg(target_arch = "x86_64")]
        {
            let at = self.home(hash(id));
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

    /// For each of `ids` in turn (a chunk's requests, in the order its scan
    /// listed them): calls `settle` with what the run knew of it (if
    /// anything) and records what `settle` returns. The slots of the ids a
    /// few places ahead are prefetched meanwhile.
    pub(super) fn settle_each(
        &mut self,
        ids: &[RequestId],
        mut settle: impl FnMut(usize, Option<Recent>) -> Recent,
    ) {
        if ids.is_empty() {
            return;
        }
        self.reserve(ids.len());
        for id in ids.iter().take(PREFETCH_AHEAD) {
            self.prefetch(*id);
        }
        let mut newest = 0;
        let mut to = self.at(self.next);
        self.chunks.push_back((self.next, 0));
        for (i, &id) in ids.iter().enumerate() {
            if let Some(&ahead) = ids.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            let hash = hash(id);
            let (at, known) = self.find(id, hash);
            let latest = settle(i, known);
            if self.slots[at] == 0 {
                self.len += 1;
            }
            newest = newest.max(latest.last());
            self.records[to] = [id.0[0], id.0[1], latest.0];
            to = if to + 1 == self.records.len() {
                0
            } else {
                to + 1
            };
            self.slots[at] = (tag(hash) << 32) | (self.next & u64::from(u32::MAX));
            self.next += 1;
        }
        if let Some(chunk) = self.chunks.back_mut() {
            chunk.1 = newest;
        }
        if self.next - self.swept >= SWEEP_EVERY {
            self.drop_stale();
        }
    }

    /// Holds each request of `held` as its [`Recent`], as one chunk.
    pub(super) fn remember(&mut self, held: impl IntoIterator<Item = (RequestId, Recent)>) {
        let (ids, recent): (Vec<RequestId>, Vec<Recent>) = held.into_iter().unzip();
        self.settle_each(&ids, |i, _| recent[i]);
    }

    /// Drops the records of the chunks none of whose requests had an event
    /// in `window` (at most [`Window::MAX`]) before event `now`: their
    /// slots go stale.
    pub(super) fn forget(&mut self, now: u64, window: Window) {
        let window = Window(window.0.min(Window::MAX.0));
        while let Some(&(_, newest)) = self.chunks.front() {
            if window.holds(now.saturating_sub(newest)) {
                break;
            }
            self.chunks.pop_front();
            self.oldest = self.chunks.front().map_or(self.next, |&(first, _)| first);
        }
    }

    /// Whether `slot` names a record held.
    fn live(&self, slot: Slot) -> bool {
        u64::from((slot as u32).wrapping_sub(self.oldest as u32)) < self.next - self.oldest
    }

    /// Empties the stale slots, in place: the table's memory is reused, not
    /// allocated afresh (fresh pages fault in one by one, and were most of
    /// what remembering requests cost).
    ///
    /// One walk, which also moves each request back towards its home, so
    /// that no probe stops at a gap before the request it looks for. It
    /// starts past a slot that was empty before (there is one: the table is
    /// at most three-quarters full), so that it meets each run of occupied
    /// slots from the run's start: a request never leaves its run (it moves
    /// back towards its home), and the slots from its home to where it lands
    /// hold requests the walk placed before it, which do not move again.
    /// (From a slot a drop freed, the walk would start in a run's middle,
    /// and that argument would not hold.) A request with no empty slot
    /// between its home and itself stays: most of them, so the walk mostly
    /// reads.
    pub(super) fn drop_stale(&mut self) {
        self.swept = self.next;
        let Some(empty) = self.slots.iter().position(|&s| s == 0) else {
            return;
        };
        let mask = self.slots.len() - 1;
        let mut last_empty = empty;
        for step in 1..=self.slots.len() {
            let at = (empty + step) & mask;
            let slot = self.slots[at];
            if slot == 0 {
                last_empty = at;
                continue;
            }
            if !self.live(slot) {
                self.slots[at] = 0;
                self.len -= 1;
                last_empty = at;
                continue;
            }
            let home = self.home_of_slot(slot);
            if at.wrapping_sub(home) & mask < at.wrapping_sub(last_empty) & mask {
                continue;
            }
            self.slots[at] = 0;
            let to = self.free_slot_from(home);
            self.slots[to] = slot;
            last_empty = at;
        }
        // Shrunk when the kept fit a quarter of the table, so a burst does
        // not hold its memory for ever.
        if self.len * 4 < self.slots.len() / 4 && self.slots.len() > 16 {
            let fit = (self.len * 4 / 3 + 1).next_power_of_two().max(16);
            self.rebuild(fit);
        }
    }

    /// Every request held, and what the run knows of it.
    pub(super) fn iter(&self) -> impl Iterator<Item = (RequestId, Recent)> + '_ {
        (self.slots.iter())
            .filter(|&&s| s != 0)
            .filter_map(|&s| self.record(s as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids whose home, in a table of `table`'s size, is `home`.
    fn homed(
        table: &RecentRequests,
        home: usize,
        tag: u64,
    ) -> impl Iterator<Item = RequestId> + '_ {
        (0u64..)
            .map(move |n| RequestId([n, tag]))
            .filter(move |&id| table.home(hash(id)) == home)
    }

    /// Holds `id` as the last event `last`, as a chunk of its own.
    fn hold(table: &mut RecentRequests, id: RequestId, last: u64) {
        table.remember([(id, Recent::new(last, false))]);
    }

    /// The slot that holds `id`.
    fn slot_of(table: &RecentRequests, id: RequestId) -> usize {
        let (at, known) = table.find(id, hash(id));
        assert!(known.is_some(), "{id:?} not held");
        at
    }

    /// Against a std map, through settles, growth, forgetting and sweeps:
    /// a chunk a round, each request's last event the round. The records
    /// stay bounded by the window.
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
        let window = Window(5);
        for round in 0..200u64 {
            // Few distinct keys, so that most are seen again.
            let ids: Vec<RequestId> = (0..50).map(|_| RequestId([next() % 3000, 7])).collect();
            let mut unique = ids.clone();
            unique.sort_by_key(|id| id.0);
            unique.dedup();
            table.forget(round, window);
            map.retain(|_, r: &mut Recent| window.holds(round - r.last()));
            table.settle_each(&unique, |i, known| {
                assert_eq!(known, map.get(&unique[i].0).copied(), "{round}");
                Recent::new(round, i % 2 == 0)
            });
            for (i, id) in unique.iter().enumerate() {
                map.insert(id.0, Recent::new(round, i % 2 == 0));
            }
            // The records held are those of the last six rounds (the
            // window's five and this one), and the ring at most twice that.
            assert!(table.next - table.oldest <= 6 * 50, "{round}");
            assert!(table.records.len() <= 2 * 6 * 50, "{round}");
            if round % 3 == 0 {
                table.drop_stale();
                assert_eq!(table.len(), map.len());
            }
            let mut held: Vec<_> = table.iter().map(|(id, r)| (id.0, r)).collect();
            held.sort_by_key(|(k, _)| *k);
            let mut want: Vec<_> = map.iter().map(|(k, r)| (*k, *r)).collect();
            want.sort_by_key(|(k, _)| *k);
            assert_eq!(held, want, "{round}");
        }
    }

    /// Two keys with one hash, so one home and one tag: each finds its own
    /// record, as the keys are compared there.
    #[test]
    fn keys_with_one_tag_are_told_apart_by_their_records() {
        let (a, b) = (RequestId([0, 1]), RequestId([1 << 32, 0]));
        assert_eq!(hash(a), hash(b));
        let mut table = RecentRequests::default();
        hold(&mut table, a, 3);
        hold(&mut table, b, 4);
        assert_eq!(table.len(), 2);
        assert_eq!(table.find(a, hash(a)).1, Some(Recent::new(3, false)));
        assert_eq!(table.find(b, hash(b)).1, Some(Recent::new(4, false)));
    }

    /// Records dropped by the window leave their slots stale: found by no
    /// lookup, held by no iteration, emptied by the next sweep.
    #[test]
    fn forgotten_records_leave_stale_slots_until_a_sweep() {
        let mut table = RecentRequests::default();
        let (old, new) = (RequestId([1, 1]), RequestId([2, 2]));
        hold(&mut table, old, 10);
        hold(&mut table, new, 20);
        table.forget(25, Window(10));
        assert_eq!(table.find(old, hash(old)).1, None);
        assert_eq!(table.find(new, hash(new)).1, Some(Recent::new(20, false)));
        assert_eq!(table.iter().count(), 1);
        assert_eq!(table.len(), 2);
        table.drop_stale();
        assert_eq!(table.len(), 1);
        assert_eq!(table.find(new, hash(new)).1, Some(Recent::new(20, false)));
        // A window past the largest remembers for the largest.
        table.forget(20 + Window::MAX.0, Window(u64::MAX));
        assert_eq!(table.find(new, hash(new)).1, Some(Recent::new(20, false)));
        table.forget(21 + Window::MAX.0, Window(u64::MAX));
        assert_eq!(table.find(new, hash(new)).1, None);
    }

    /// A request put in the table takes the first stale slot on its way,
    /// ahead of the empty slot that ends it; those after it keep theirs.
    #[test]
    fn a_request_takes_the_first_stale_slot_on_its_way() {
        let mut table = RecentRequests::default();
        table.reserve(1);
        let ids: Vec<RequestId> = homed(&table, 5, 3).take(4).collect();
        for (last, &id) in ids[..3].iter().enumerate() {
            hold(&mut table, id, last as u64);
        }
        // ids[0] and ids[1], in slots 5 and 6, go stale.
        table.forget(12, Window(10));
        assert_eq!(table.len(), 3);
        hold(&mut table, ids[3], 12);
        assert_eq!(table.len(), 3);
        assert_eq!(slot_of(&table, ids[3]), 5);
        assert_eq!(slot_of(&table, ids[2]), 7);
        table.drop_stale();
        assert_eq!(table.len(), 2);
        assert_eq!(slot_of(&table, ids[3]), 5);
        assert_eq!(slot_of(&table, ids[2]), 6);
    }

    /// Record numbers past 2^32 (a slot keeps their low 32 bits): records
    /// on both sides of the wrap are found, and their slots stay live.
    #[test]
    fn record_numbers_wrap_in_the_slots() {
        let start = u64::from(u32::MAX) - 2;
        let mut table = RecentRequests {
            oldest: start,
            next: start,
            swept: start,
            ..RecentRequests::default()
        };
        let ids: Vec<RequestId> = (0..8).map(|n| RequestId([n, 9])).collect();
        for (n, &id) in ids.iter().enumerate() {
            hold(&mut table, id, n as u64);
        }
        assert_eq!(table.next, u64::from(u32::MAX) + 6);
        table.drop_stale();
        assert_eq!(table.len(), 8);
        for (n, &id) in ids.iter().enumerate() {
            assert_eq!(
                table.find(id, hash(id)).1,
                Some(Recent::new(n as u64, false))
            );
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
        // Five requests at home in the last slot: they take it and wrap to
        // the first four. The first three held are dropped (their records
        // are the oldest), from the last slot and the first two.
        let ids: Vec<RequestId> = homed(&table, last, 1).take(5).collect();
        for (n, &id) in ids.iter().enumerate() {
            hold(&mut table, id, n as u64);
        }
        assert_eq!(slot_of(&table, ids[4]), 3);
        table.forget(13, Window(10));
        table.drop_stale();
        assert_eq!(table.len(), 2);
        // The two kept fill the run's first two slots, from its home.
        assert_eq!(slot_of(&table, ids[3]), last);
        assert_eq!(slot_of(&table, ids[4]), 0);
        let mut held: Vec<u64> = table.iter().map(|(_, r)| r.last()).collect();
        held.sort_unstable();
        assert_eq!(held, [3, 4]);
    }

    /// A run of slots that wraps past the table's end, with the lowest free
    /// slot after the drops in its middle: every kept request stays
    /// findable.
    #[test]
    fn drops_in_a_wrapped_run_keep_every_request_findable() {
        let mut table = RecentRequests::default();
        table.reserve(1);
        let n = table.slots.len();
        let at_13: Vec<RequestId> = homed(&table, n - 3, 2).take(4).collect();
        let e = homed(&table, n - 1, 2).next().unwrap();
        // Held in this order, g and f first so that they are the ones
        // dropped: slots n-3, n-2 hold g and f; w, x fill n-1 and 0; e, at
        // home in n-1, lands in 1.
        let (w, g, x, f) = (at_13[0], at_13[1], at_13[2], at_13[3]);
        for (last, id) in [g, f, w, x, e].into_iter().enumerate() {
            hold(&mut table, id, last as u64);
        }
        assert_eq!(slot_of(&table, e), 1);
        table.forget(12, Window(10));
        table.drop_stale();
        assert_eq!(table.len(), 3);
        for (id, last) in [(w, 2), (x, 3), (e, 4)] {
            assert_eq!(table.find(id, hash(id)).1, Some(Recent::new(last, false)));
        }
        assert_eq!(slot_of(&table, w), n - 3);
        assert_eq!(slot_of(&table, x), n - 2);
        assert_eq!(slot_of(&table, e), n - 1);
    }
}
