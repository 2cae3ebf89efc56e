//! Webhook batches into the engine `parse` uses.
//!
//! [`decode`] turns a POST body (an `audit.k8s.io` `EventList`, or one
//! `Event`) into newline-terminated compact JSON lines, the format of the
//! apiserver's log file. [`Intake::ingest`] drops replays (an `auditID` and
//! stage seen already: the apiserver resends a batch it got no 2xx for),
//! appends the rest to the spool and hands exactly those bytes to the
//! engine's [`Feed`], at the place they have in the spool; so `apicov parse
//! 'SPOOL/*.log'` sees the same lines at the same positions and renders the
//! same outputs.

use std::collections::VecDeque;
use std::path::Path;

use ahash::AHashSet;
use serde::Deserialize;
use serde_json::value::RawValue;

use apicov_core::aggregate::{request_key, Tally};
use apicov_core::error::Result;
use apicov_core::event::{self, Stage, Validation};
use apicov_core::input::InputName;
use apicov_core::pipeline::{Engine, Feed, InputInfo};
use apicov_core::routing::AnyMatcher;

use super::spool::Spool;

/// A request at one stage: what a replayed event repeats.
type EventKey = (u128, u8);

/// A decoded POST body: its events as log lines.
#[derive(Debug, Default)]
pub struct Batch {
    /// Every event as one compact JSON line ending in `\n`.
    pub bytes: Vec<u8>,
    /// Per line: its end in `bytes` (after the newline) and its replay key
    /// (none for a line without `auditID` or a known stage: never dropped).
    pub lines: Vec<(usize, Option<EventKey>)>,
}

impl Batch {
    pub fn events(&self) -> usize {
        self.lines.len()
    }
}

/// The envelope of a POST body; the events stay raw text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    items: Option<Vec<&'a RawValue>>,
}

/// Decodes a POST body. The error says why it is not an audit `EventList`
/// or `Event` (the caller answers 400).
pub fn decode(body: &[u8]) -> std::result::Result<Batch, String> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| format!("malformed JSON: {e}"))?;
    let mut batch = Batch {
        bytes: Vec::with_capacity(body.len()),
        lines: Vec::new(),
    };
    match (envelope.kind.as_deref(), envelope.items) {
        (Some("EventList") | None, Some(items)) => {
            batch.lines.reserve(items.len());
            for (i, item) in items.iter().enumerate() {
                let raw = item.get().as_bytes();
                if !raw.starts_with(b"{") {
                    return Err(format!("items[{i}] is not an object"));
                }
                push_line(&mut batch, raw);
            }
        }
        (Some("Event"), None) => push_line(&mut batch, body.trim_ascii()),
        (Some(kind), _) => {
            return Err(format!(
                "kind {kind:?}: expected an audit.k8s.io EventList or Event"
            ))
        }
        (None, None) => return Err("no kind and no items: not an audit EventList".into()),
    }
    Ok(batch)
}

/// Appends one event as a compact line and notes its replay key.
fn push_line(batch: &mut Batch, raw: &[u8]) {
    let start = batch.bytes.len();
    compact_into(raw, &mut batch.bytes);
    let key = event_key(&batch.bytes[start..]);
    batch.bytes.push(b'\n');
    batch.lines.push((batch.bytes.len(), key));
}

/// The replay key of one line, when it has an `auditID` and a known stage.
fn event_key(line: &[u8]) -> Option<EventKey> {
    let fields = event::extract(line, Validation::Fast, false).ok()?;
    let stage = Stage::parse(&fields.stage?.decode())?;
    Some((request_key(&fields.audit_id?.decode()), stage as u8))
}

/// Copies valid JSON text without the whitespace between tokens (a pretty
/// printed event becomes one line; string contents are copied byte for byte,
/// escapes included, so a line is what the apiserver would have logged).
fn compact_into(json: &[u8], out: &mut Vec<u8>) {
    out.reserve(json.len());
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                // To the closing quote, stepping over escapes.
                let mut j = i + 1;
                while let Some(k) = memchr::memchr2(b'"', b'\\', &json[j..]) {
                    j += k;
                    if json[j] == b'\\' {
                        j += 2;
                    } else {
                        break;
                    }
                }
                let end = (j + 1).min(json.len());
                out.extend_from_slice(&json[i..end]);
                i = end;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
}

/// The most recent events, for dropping replays in bounded memory: a retry
/// comes seconds after the first attempt, never a million events later.
#[derive(Debug, Default)]
struct RecentEvents {
    capacity: usize,
    seen: AHashSet<EventKey>,
    order: VecDeque<EventKey>,
}

impl RecentEvents {
    fn new(capacity: usize) -> RecentEvents {
        RecentEvents {
            capacity,
            ..RecentEvents::default()
        }
    }

    /// Remembers `key`; false when it is remembered already (a replay).
    fn insert(&mut self, key: EventKey) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if !self.seen.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            let old = self.order.pop_front().expect("not empty");
            self.seen.remove(&old);
        }
        true
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    pub accepted: u64,
    pub replays: u64,
}

/// The served run: the engine's feed (counting as `parse` does), the spool
/// and the replay filter.
pub struct Intake {
    feed: Feed<AnyMatcher>,
    spool: Option<Spool>,
    recent: RecentEvents,
    /// Events received in accepted batches, replays included.
    pub events_received: u64,
    pub replays: u64,
}

impl Intake {
    /// A new intake; with a spool, its files are replayed first (through
    /// the `parse` pipeline) so a restarted server goes on where it stopped.
    pub fn new(
        engine: &Engine<AnyMatcher>,
        spool: Option<Spool>,
        replay_window: usize,
    ) -> Result<Intake> {
        let mut recent = RecentEvents::new(replay_window);
        let feed = match &spool {
            Some(spool) if !spool.files().is_empty() => {
                let names: Vec<InputName> = spool
                    .files()
                    .iter()
                    .map(|p| InputName::File(p.clone()))
                    .collect();
                let (tally, _) = engine.run(engine.open(&names)?)?;
                for path in spool.files() {
                    remember_file(&mut recent, path)?;
                }
                engine.feed_from(tally)
            }
            _ => engine.feed(),
        };
        Ok(Intake {
            feed,
            spool,
            recent,
            events_received: 0,
            replays: 0,
        })
    }

    /// What has been counted.
    pub fn tally(&self) -> &Tally {
        self.feed.tally()
    }

    /// Drops the batch's replays, spools the rest and counts them.
    pub fn ingest(&mut self, batch: &Batch) -> Result<Ingested> {
        self.events_received += batch.events() as u64;
        let mut kept: Vec<u8> = Vec::new();
        let mut replays = 0;
        let mut start = 0;
        for &(end, key) in &batch.lines {
            let fresh = key.is_none_or(|k| self.recent.insert(k));
            if fresh && replays == 0 {
                // No replay so far: the batch's own bytes serve.
            } else if fresh {
                kept.extend_from_slice(&batch.bytes[start..end]);
            } else {
                if replays == 0 {
                    kept.extend_from_slice(&batch.bytes[..start]);
                }
                replays += 1;
            }
            start = end;
        }
        self.replays += replays;
        let bytes = if replays == 0 {
            &batch.bytes[..]
        } else {
            &kept[..]
        };
        let accepted = batch.events() as u64 - replays;
        if !bytes.is_empty() {
            match &mut self.spool {
                // At the place the bytes have in the spool's files.
                Some(spool) => {
                    let (input, offset) = spool.place(bytes.len())?;
                    spool.append(bytes)?;
                    self.feed.push_at(input, offset, bytes);
                }
                None => self.feed.push(bytes),
            }
        }
        Ok(Ingested { accepted, replays })
    }

    /// Makes the spooled batches durable (before they are acknowledged).
    pub fn commit(&mut self) -> Result<()> {
        match &mut self.spool {
            Some(spool) => spool.commit(),
            None => Ok(()),
        }
    }

    /// The inputs as `parse 'SPOOL/*.log'` lists them, or one virtual input.
    pub fn inputs(&self) -> Vec<InputInfo> {
        let names: Vec<String> = match &self.spool {
            Some(spool) => spool
                .files()
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            None => vec!["<webhook>".to_string()],
        };
        names
            .into_iter()
            .enumerate()
            .map(|(i, name)| InputInfo {
                name,
                compression: apicov_core::input::Compression::None,
                disk_bytes: Some(self.tally().inputs.get(i).map_or(0, |t| t.bytes)),
            })
            .collect()
    }
}

/// Notes a spooled file's events as seen (a restart drops their replays too).
fn remember_file(recent: &mut RecentEvents, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| apicov_core::error::Error::input(path, e))?;
    for line in bytes.split(|&b| b == b'\n') {
        let line = event::trim_line(line);
        if let Some(key) = (!line.is_empty()).then(|| event_key(line)).flatten() {
            recent.insert(key);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_strings_and_escapes() {
        let pretty = b"{\n  \"a\" : \"x y\\\" \\\\\",\n\t\"b\": [1, 2.50, {\"c\": null}]\r\n}";
        let mut out = Vec::new();
        compact_into(pretty, &mut out);
        assert_eq!(out, br#"{"a":"x y\" \\","b":[1,2.50,{"c":null}]}"#);
    }

    #[test]
    fn bodies_decode_to_lines() {
        let ev = r#"{"kind":"Event","auditID":"00000000-0000-0000-0000-000000000001","stage":"ResponseComplete","requestURI":"/api/v1/pods?a=1\u0026b=2","verb":"list"}"#;
        let list = format!(
            "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{ev}, {ev}]}}"
        );
        let batch = decode(list.as_bytes()).unwrap();
        assert_eq!(batch.bytes, format!("{ev}\n{ev}\n").into_bytes());
        let key = Some((1u128, Stage::ResponseComplete as u8));
        assert_eq!(batch.lines, [(ev.len() + 1, key), (2 * ev.len() + 2, key)]);
        let single = decode(ev.as_bytes()).unwrap();
        assert_eq!(single.bytes, format!("{ev}\n").into_bytes());
        assert_eq!(
            decode(b"{\"kind\":\"Pod\"}").unwrap_err(),
            "kind \"Pod\": expected an audit.k8s.io EventList or Event"
        );
        assert_eq!(
            decode(b"{\"items\":[1]}").unwrap_err(),
            "items[0] is not an object"
        );
        assert!(decode(b"{\"items\":[")
            .unwrap_err()
            .starts_with("malformed JSON: "));
    }

    #[test]
    fn the_replay_window_forgets_the_oldest() {
        let mut recent = RecentEvents::new(2);
        assert!(recent.insert((1, 0)));
        assert!(!recent.insert((1, 0)));
        assert!(recent.insert((1, 3)));
        assert!(recent.insert((2, 0)));
        // (1, 0) left the window.
        assert!(recent.insert((1, 0)));
        assert!(!recent.insert((2, 0)));
        let mut off = RecentEvents::new(0);
        assert!(off.insert((1, 0)) && off.insert((1, 0)));
    }
}
