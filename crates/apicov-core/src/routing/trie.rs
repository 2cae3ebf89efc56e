//! The segment trie, the default strategy.

use super::matcher::PathMatcher;
use super::template::{Route, Segment};
use crate::spec::{Method, OpId};

/// Segment trie: one node per distinct template prefix, at most one
/// parameter and one catch-all child. Lookup walks the path once, segment by
/// segment, and backtracks only at a node where a literal child and a
/// parameter or catch-all child both take the segment. The default strategy:
/// fastest in `benches/routes.rs`.
///
/// Laid out flat for the lookup: nodes in one array, and the literal
/// children of every node in another, each node's in a region of its own
/// where a per-node multiplier sends each of its literals to a slot of its
/// own (chosen when the trie is built), so that finding a child is one hash
/// and one compare, in one or two cache lines (with a hash map per node the
/// same lookups take about a tenth longer, docs/performance.md).
#[derive(Debug)]
pub struct SegmentTrie {
    nodes: Vec<TrieNode>,
    /// Literal children of up to [`KEY`] bytes: every node's region.
    slots: Vec<Slot>,
    /// Longer literal children, for the nodes that have any (rare: one
    /// Kubernetes resource name is that long).
    long: Vec<LongChildren>,
}

/// Literal children longer than [`KEY`] bytes, hashed with foldhash's
/// fixed-seed hasher. The tables are built once from the spec and only
/// read, so a fixed seed gives a client nothing to aim at.
type LongChildren = std::collections::HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>;

/// No node, slot region or operation.
const NONE: u32 = u32::MAX;

/// A node of the flat trie.
#[derive(Debug, Clone)]
struct TrieNode {
    /// Multiplier of the node's literal keys' folded words: the product's
    /// top bits (see `shift`) are the slot, one slot per literal.
    multiplier: u64,
    /// First slot of the node's region, or [`NONE`] with no literal
    /// children of up to [`KEY`] bytes.
    region: u32,
    /// `64 - log2(region size)`: the shift that leaves the slot's bits.
    shift: u32,
    param: u32,
    catch_all: u32,
    /// Index in `long`, or [`NONE`].
    long: u32,
    /// Operation by method index, or [`NONE`].
    ops: [u32; 7],
}

/// A literal child: its key and the child node ([`NONE`]: an empty slot).
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Key,
    child: u32,
}

const EMPTY: Slot = Slot {
    key: Key {
        words: [0; 4],
        len: NONE,
    },
    child: NONE,
};

/// Segments this long or shorter are [`Key`]s: every segment of a
/// Kubernetes path but one resource name (the longest API group,
/// `admissionregistration.k8s.io`, has 28 bytes;
/// `validatingadmissionpolicybindings` has 33).
const KEY: usize = 32;

/// A segment of at most [`KEY`] bytes as one value: its bytes, zero padded,
/// and its length (a segment may hold zero bytes itself). The bytes come
/// out of the same 16-byte loads that find the segment's end, and a lookup
/// compares four words instead of calling `memcmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    words: [u64; 4],
    len: u32,
}

impl Key {
    fn of(segment: &[u8]) -> Option<Key> {
        let mut bytes = [0u8; KEY];
        bytes.get_mut(..segment.len())?.copy_from_slice(segment);
        let word = |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap());
        Some(Key {
            words: [word(0), word(1), word(2), word(3)],
            len: segment.len() as u32,
        })
    }

    /// Whether the keys are equal: the words compared in registers (the
    /// derived comparison stored them and loaded them back as vectors, a
    /// stall on each lookup).
    #[inline(always)]
    fn same(&self, other: &Key) -> bool {
        let [a, b, c, d] = self.words;
        let [e, f, g, h] = other.words;
        ((a ^ e) | (b ^ f) | (c ^ g) | (d ^ h) | u64::from(self.len ^ other.len)) == 0
    }

    /// The key's words and length folded into one, which a node's
    /// multiplier spreads.
    #[inline(always)]
    fn folded(&self) -> u64 {
        let [a, b, c, d] = self.words;
        a ^ b.rotate_left(21) ^ c.rotate_left(42) ^ d.rotate_left(53) ^ u64::from(self.len)
    }
}

/// The node shape the trie is built in: literal children in hash maps.
#[derive(Debug, Default)]
struct BuildNode {
    short: std::collections::HashMap<Key, u32, foldhash::fast::FixedState>,
    long: LongChildren,
    param: Option<u32>,
    catch_all: Option<u32>,
    ops: [Option<OpId>; 7],
}

/// A 16-byte load of `bytes` from `at`: past the end it reads zeros.
#[inline(always)]
fn load16(bytes: &[u8], at: usize) -> u128 {
    match bytes.get(at..at + 16) {
        Some(block) => u128::from_le_bytes(block.try_into().unwrap()),
        None => padded(bytes.get(at..).unwrap_or(&[])),
    }
}

/// The bytes of `short` (fewer than 16), zero padded, in at most two
/// overlapping loads: the rest of a path is a `memcpy` call of a few bytes
/// otherwise.
#[inline(always)]
fn padded(short: &[u8]) -> u128 {
    let len = short.len();
    debug_assert!(len < 16);
    // Two loads that cover the bytes between them, the second shifted to
    // where its bytes belong; the bytes both hold are the same, so OR-ing
    // them changes nothing.
    let word = |at: usize, n: usize| -> u128 {
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&short[at..at + n]);
        u128::from(u64::from_le_bytes(w)) << (8 * at)
    };
    match len {
        8.. => word(0, 8) | word(len - 8, 8),
        4.. => word(0, 4) | word(len - 4, 4),
        1.. => word(0, 1) | word(len / 2, 1) | word(len - 1, 1),
        0 => 0,
    }
}

/// Where the `/`s of a 16-byte block are: one bit a byte.
#[inline(always)]
fn slashes(block: u128) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8};
        // SAFETY: SSE2 is part of every x86_64.
        unsafe {
            let v: __m128i = std::mem::transmute(block);
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8))) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let bytes = block.to_le_bytes();
        (0..16).fold(0, |m, i| m | (u32::from(bytes[i] == b'/') << i))
    }
}

/// The low `n` bytes of `block` (`n` at most 16).
#[inline(always)]
fn keep(block: u128, n: usize) -> u128 {
    match n {
        16.. => block,
        _ => block & ((1u128 << (8 * n)) - 1),
    }
}

/// The first segment of `after_slash` (a path after one of its slashes):
/// where it ends (the next `/` or the end), and its [`Key`] when it is at
/// most [`KEY`] bytes. Two 16-byte loads give both.
#[inline(always)]
fn first_segment(after_slash: &[u8]) -> (usize, Option<Key>) {
    let avail = after_slash.len();
    // Past the path's end counts as a slash.
    let end_bit = |from: usize| {
        if avail < from + 16 {
            1u32 << (avail - from)
        } else {
            0
        }
    };
    let first = load16(after_slash, 0);
    let found = slashes(first) | end_bit(0);
    let (len, second) = if found != 0 {
        (found.trailing_zeros() as usize, 0)
    } else {
        let second = load16(after_slash, 16);
        let found = slashes(second) | end_bit(16);
        if found != 0 {
            (16 + found.trailing_zeros() as usize, second)
        } else if after_slash.get(KEY).is_none_or(|&c| c == b'/') {
            (KEY, second)
        } else {
            let end = KEY
                + after_slash[KEY..]
                    .iter()
                    .position(|&c| c == b'/')
                    .unwrap_or(avail - KEY);
            return (end, None);
        }
    };
    let (lo, hi) = (keep(first, len), keep(second, len.saturating_sub(16)));
    let key = Key {
        words: [lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64],
        len: len as u32,
    };
    (len, Some(key))
}

/// [`first_segment`]'s rule byte by byte: the tests' oracle.
#[cfg(test)]
fn first_segment_plain(after_slash: &[u8]) -> (usize, Option<Key>) {
    let end = after_slash
        .iter()
        .position(|&c| c == b'/')
        .unwrap_or(after_slash.len());
    (end, Key::of(&after_slash[..end]))
}

impl SegmentTrie {
    /// A trie over `routes`.
    pub fn new(routes: &[Route]) -> SegmentTrie {
        let mut nodes = vec![BuildNode::default()];
        for route in routes {
            let mut node = 0usize;
            for segment in &route.segments {
                node = child(&mut nodes, node, segment);
            }
            let slot = &mut nodes[node].ops[route.method.index()];
            // Routes come in precedence order: the first one keeps the slot.
            slot.get_or_insert(route.op);
        }
        SegmentTrie::flatten(nodes)
    }

    /// The lookup's layout of the nodes built.
    fn flatten(built: Vec<BuildNode>) -> SegmentTrie {
        let mut trie = SegmentTrie {
            nodes: Vec::with_capacity(built.len()),
            slots: Vec::new(),
            long: Vec::new(),
        };
        for node in built {
            let (multiplier, region, shift) = match place(&node.short) {
                Some((multiplier, placed)) => {
                    let region = trie.slots.len() as u32;
                    let shift = 64 - placed.len().trailing_zeros();
                    trie.slots.extend(placed);
                    (multiplier, region, shift)
                }
                None => (0, NONE, 0),
            };
            let long = if node.long.is_empty() {
                NONE
            } else {
                trie.long.push(node.long);
                (trie.long.len() - 1) as u32
            };
            trie.nodes.push(TrieNode {
                multiplier,
                region,
                shift,
                param: node.param.unwrap_or(NONE),
                catch_all: node.catch_all.unwrap_or(NONE),
                long,
                ops: node.ops.map(|op| op.map_or(NONE, |op| op.0)),
            });
        }
        trie
    }

    /// The literal child of `node` for `segment` (`key`: its [`Key`]).
    #[inline(always)]
    fn literal(&self, node: &TrieNode, key: Option<Key>, segment: &[u8]) -> u32 {
        match key {
            Some(key) if node.region != NONE => {
                let at = key.folded().wrapping_mul(node.multiplier) >> node.shift;
                let slot = &self.slots[node.region as usize + at as usize];
                if slot.key.same(&key) {
                    slot.child
                } else {
                    NONE
                }
            }
            Some(_) => NONE,
            None if node.long != NONE => self.long[node.long as usize]
                .get(segment)
                .copied()
                .unwrap_or(NONE),
            None => NONE,
        }
    }

    /// The operation `rest` reaches from `node`: literal children first,
    /// then the parameter child, then the catch-all. A loop down the path;
    /// it recurses only where a segment has two ways on (a literal child
    /// and a parameter or catch-all child, or a parameter and a catch-all).
    fn walk<'t>(&'t self, mut node: &'t TrieNode, method: Method, mut rest: &[u8]) -> Option<OpId> {
        let op = |node: &TrieNode| {
            let op = node.ops[method.index()];
            (op != NONE).then_some(OpId(op))
        };
        loop {
            let Some(after_slash) = rest.strip_prefix(b"/") else {
                return if rest.is_empty() { op(node) } else { None };
            };
            let (end, key) = first_segment(after_slash);
            let (segment, tail) = after_slash.split_at(end);
            let literal = self.literal(node, key, segment);
            let param = if segment.is_empty() { NONE } else { node.param };
            // The catch-all takes the non-empty rest, which may start with
            // an empty segment (`/logs//a`), as the other strategies have it.
            let catch_all = if after_slash.is_empty() {
                NONE
            } else {
                node.catch_all
            };
            if catch_all == NONE && (literal == NONE || param == NONE) {
                // One way on at most: no backtracking point.
                let next = if literal != NONE { literal } else { param };
                if next == NONE {
                    return None;
                }
                node = &self.nodes[next as usize];
                rest = tail;
                continue;
            }
            if literal != NONE {
                if let Some(found) = self.walk(&self.nodes[literal as usize], method, tail) {
                    return Some(found);
                }
            }
            if param != NONE {
                if catch_all == NONE {
                    node = &self.nodes[param as usize];
                    rest = tail;
                    continue;
                }
                if let Some(found) = self.walk(&self.nodes[param as usize], method, tail) {
                    return Some(found);
                }
            }
            return if catch_all != NONE {
                op(&self.nodes[catch_all as usize])
            } else {
                None
            };
        }
    }
}

/// The child of `node` for `segment`, added if new.
fn child(nodes: &mut Vec<BuildNode>, node: usize, segment: &Segment) -> usize {
    let next = nodes.len() as u32;
    let parent = &mut nodes[node];
    let existing = match segment {
        Segment::Literal(lit) => match Key::of(lit) {
            Some(key) => *parent.short.entry(key).or_insert(next),
            // Most literals are there already: look before cloning the key.
            None => match parent.long.get(lit) {
                Some(&child) => child,
                None => *parent.long.entry(lit.clone()).or_insert(next),
            },
        },
        Segment::Param => *parent.param.get_or_insert(next),
        Segment::CatchAll => *parent.catch_all.get_or_insert(next),
    };
    if existing == next {
        nodes.push(BuildNode::default());
    }
    existing as usize
}

/// A multiplier that sends each of `children`'s keys to a slot of its own
/// in a power-of-two region, and the region: the smallest region at least
/// twice the children where one of a fixed series of multipliers does. None
/// for no children.
fn place(
    children: &std::collections::HashMap<Key, u32, foldhash::fast::FixedState>,
) -> Option<(u64, Vec<Slot>)> {
    if children.is_empty() {
        return None;
    }
    let folded: Vec<(u64, Key, u32)> = children
        .iter()
        .map(|(key, &child)| (key.folded(), *key, child))
        .collect();
    let mut size = (2 * children.len()).next_power_of_two().max(2);
    // A fixed series of odd multipliers (SplitMix64's increments), so that
    // a spec always builds the same trie.
    let mut multiplier: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut taken = Vec::new();
    loop {
        let shift = 64 - size.trailing_zeros();
        for _ in 0..64 {
            taken.clear();
            taken.resize(size.div_ceil(64), 0u64);
            let placed = folded.iter().all(|&(f, _, _)| {
                let at = (f.wrapping_mul(multiplier) >> shift) as usize;
                let bit = 1u64 << (at % 64);
                let free = taken[at / 64] & bit == 0;
                taken[at / 64] |= bit;
                free
            });
            if placed {
                let mut slots = vec![EMPTY; size];
                for &(f, key, child) in &folded {
                    slots[(f.wrapping_mul(multiplier) >> shift) as usize] = Slot { key, child };
                }
                return Some((multiplier, slots));
            }
            multiplier = multiplier.wrapping_add(0x9E37_79B9_7F4A_7C15) | 1;
        }
        size *= 2;
    }
}

impl PathMatcher for SegmentTrie {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        if path.is_empty() {
            return None;
        }
        self.walk(&self.nodes[0], method, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_and_its_key_are_found_as_the_plain_rule_has_them() {
        // Every length of the rest of a path up to 72 bytes, with no slash
        // or one or two at every offset, bytes that differ by position (a
        // load from the wrong place shows) and a high byte.
        let mut cases = 0;
        for len in 0..=72usize {
            let base: Vec<u8> = (0..len)
                .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789\xc3ABCDEF"[i % 40])
                .collect();
            let mut rests = vec![base.clone()];
            for at in 0..len {
                let mut one = base.clone();
                one[at] = b'/';
                rests.push(one.clone());
                for second in at + 1..len {
                    let mut two = one.clone();
                    two[second] = b'/';
                    rests.push(two);
                }
            }
            for rest in rests {
                let want = first_segment_plain(&rest);
                // The oracle itself: the segment ends at the first slash.
                assert_eq!(want.0, rest.iter().take_while(|&&c| c != b'/').count());
                assert_eq!(
                    first_segment(&rest),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&rest)
                );
                cases += 1;
            }
        }
        assert_eq!(cases, 64_897);
        // Keys differ where segments do, the length included.
        assert_ne!(Key::of(b"a"), Key::of(b"a\0"));
        assert_eq!(Key::of(&[b'x'; 33]), None);
    }

    /// Where a segment has two ways on, the walk takes the literal first and
    /// comes back for the parameter, then the catch-all: on templates built
    /// to compete at every level (and with segments longer than a key),
    /// every path gets the first route that matches it, in precedence order.
    #[test]
    fn the_walk_comes_back_for_parameters_and_catch_alls() {
        use crate::routing::template::parse_template;
        let long = "a-literal-longer-than-a-key-of-32-bytes";
        let templates = [
            "/a/b/c".to_string(),
            "/a/{p}/d".into(),
            "/a/{p}/{q}".into(),
            "/a/b/{q}/e".into(),
            "/a/{p}/{q}/{r}".into(),
            "/x/y/z".into(),
            "/x/{path}".into(),
            "/x/{p}/w".into(),
            format!("/l/{long}/m"),
            "/l/{p}/n".into(),
        ];
        let mut routes: Vec<Route> = templates
            .iter()
            .enumerate()
            .map(|(i, t)| Route {
                method: Method::Get,
                segments: parse_template(t),
                op: OpId(i as u32),
            })
            .collect();
        // Precedence order, as `Route::all` has it.
        routes.sort_by_key(|r| {
            let ranks: Vec<u8> = r
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(_) => 0,
                    Segment::Param => 1,
                    Segment::CatchAll => 2,
                })
                .collect();
            (ranks, r.op)
        });
        let trie = SegmentTrie::new(&routes);
        let segments = [
            "a", "b", "c", "d", "e", "x", "y", "z", "w", "l", "m", "n", long, "",
        ];
        let mut paths: Vec<String> = vec![String::new()];
        let mut reached = vec![false; routes.len()];
        let mut checked = 0;
        for _ in 0..4 {
            paths = paths
                .iter()
                .flat_map(|p| segments.iter().map(move |s| format!("{p}/{s}")))
                .collect();
            for path in &paths {
                let want = routes
                    .iter()
                    .find(|r| r.matches(Method::Get, path.as_bytes()))
                    .map(|r| r.op);
                assert_eq!(trie.lookup(Method::Get, path.as_bytes()), want, "{path}");
                assert_eq!(trie.lookup(Method::Post, path.as_bytes()), None, "{path}");
                checked += 1;
                if let Some(op) = want {
                    reached[op.index()] = true;
                }
            }
        }
        assert_eq!(checked, 14 + 14 * 14 + 14 * 14 * 14 + 14 * 14 * 14 * 14);
        // Every template answered some path, backtracking included.
        assert_eq!(reached, vec![true; routes.len()]);
    }
}
