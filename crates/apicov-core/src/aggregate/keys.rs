//! What identifies a request (its auditID as a 128-bit key) and the group
//! of a request no operation matched (its path as a pattern).

/// A request's key: its auditID as a 128-bit number when it is a UUID (it
/// always is in apiserver logs), otherwise a 128-bit FNV-1a hash of it.
pub fn request_key(id: &[u8]) -> u128 {
    if let Some(value) = uuid_value(id) {
        return value;
    }
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in id {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    hash
}

/// Hex digit values; 0xFF for anything else.
static HEX: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` as a number. A table lookup per
/// digit into two u64 halves: the per-character match with 128-bit shifts it
/// replaces was 18% of a run's profile.
pub(super) fn uuid_value(id: &[u8]) -> Option<u128> {
    if id.len() != 36 || id[8] != b'-' || id[13] != b'-' || id[18] != b'-' || id[23] != b'-' {
        return None;
    }
    let mut bad = 0u8;
    let mut half = |digits: &[&[u8]]| {
        let mut v: u64 = 0;
        for group in digits {
            for &c in *group {
                let n = HEX[c as usize];
                bad |= n;
                v = (v << 4) | u64::from(n & 0x0F);
            }
        }
        v
    };
    let hi = half(&[&id[0..8], &id[9..13], &id[14..18]]);
    let lo = half(&[&id[19..23], &id[24..36]]);
    (bad & 0xF0 == 0).then_some((u128::from(hi) << 64) | u128::from(lo))
}

/// A path pattern for requests no operation matched: names and namespaces
/// become placeholders so that one resource's traffic forms one group, e.g.
/// `/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}`.
pub fn normalise_unmatched(uri: &[u8]) -> String {
    let mut pattern = String::new();
    normalise_unmatched_into(uri, &mut pattern);
    pattern
}

/// [`normalise_unmatched`] into a reused buffer, without allocating.
pub(super) fn normalise_unmatched_into(uri: &[u8], out: &mut String) {
    out.clear();
    let (path, _) = crate::routes::split_uri(uri);
    let path = lossy(path);
    // The segments after the first '/' (as `path.split('/').skip(1)`, in a
    // plain byte loop: the str iterator cost ~900 instructions a path): the
    // first KEPT of them, and how many there are. No rule below looks past
    // the ninth, nor tells 12 segments from more.
    const KEPT: usize = 12;
    let mut kept = [""; KEPT];
    let mut count = 0;
    let mut segment_start = None;
    for (at, &byte) in path.as_bytes().iter().enumerate() {
        if byte == b'/' {
            if let Some(from) = segment_start {
                if count < KEPT {
                    kept[count] = &path[from..at];
                }
                count += 1;
            }
            segment_start = Some(at + 1);
        }
    }
    if let Some(from) = segment_start {
        if count < KEPT {
            kept[count] = &path[from..];
        }
        count += 1;
    }
    let segments = &kept[..count.min(KEPT)];
    // Index of the first segment after the group/version prefix.
    let resource_start = match segments {
        ["api", _, ..] => 2,
        ["apis", _, _, ..] => 3,
        _ => {
            out.push_str(&path);
            return;
        }
    };
    let mut push = |segment: &str| {
        out.push('/');
        out.push_str(segment);
    };
    for segment in &segments[..resource_start] {
        push(segment);
    }
    let mut rest = &segments[resource_start..];
    if rest.len() >= 3 && rest[0] == "namespaces" {
        push("namespaces");
        push("{namespace}");
        rest = &rest[2..];
    } else if rest.len() == 2 && rest[0] == "namespaces" {
        push("namespaces");
        push("{name}");
        rest = &[];
    }
    if let Some((resource, tail)) = rest.split_first() {
        push(resource);
        if let Some((_, subresources)) = tail.split_first() {
            push("{name}");
            match subresources {
                [] => {}
                [sub] => push(sub),
                [sub, ..] => {
                    push(sub);
                    push("{path}");
                }
            }
        }
    }
}

/// `String::from_utf8_lossy`, with valid text (all of it in practice) checked
/// by `from_utf8`, which takes a sixth of the instructions.
pub(super) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
