//! The event extractor's canonical-head path reads what its general loop
//! reads on every line of generated logs (three levels, with noise) and of
//! the real audit events in `../shared/real-audit`, and on every way a
//! canonical head can stop early or go wrong.

use apicov_core::event::{extract_with, trim_line, Validation};
use apicov_core::spec::Catalogue;
use apicov_gen::{generate, GenOptions, Level};

/// The canonical-head path and the general loop agree on `line`, in
/// fast mode, with and without the user agent.
fn assert_paths_agree(line: &[u8]) {
    for ua in [false, true] {
        assert_eq!(
            extract_with(line, Validation::Fast, ua, true),
            extract_with(line, Validation::Fast, ua, false),
            "user agent {ua}: {}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn canonical_head_reads_what_the_general_loop_reads() {
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/swagger-mini.json"
    );
    let catalogue = Catalogue::from_json(&std::fs::read(spec).unwrap(), "mini").unwrap();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for (level, noise) in [
        (Level::Metadata, true),
        (Level::Request, false),
        (Level::RequestResponse, true),
    ] {
        let mut log = Vec::new();
        let options = GenOptions {
            noise,
            ..GenOptions::new(3, 200_000, level)
        };
        generate(&catalogue, &options, &mut log);
        lines.extend(log.split(|&b| b == b'\n').map(|l| trim_line(l).to_vec()));
    }
    let canonical = lines
        .iter()
        .filter(|l| l.starts_with(br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","#))
        .count();
    assert!(canonical >= 400, "{canonical} canonical lines");
    // The real events too (CI always has ../shared).
    let real = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/real-audit");
    match std::fs::read_dir(real) {
        Ok(dir) => {
            for entry in dir {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                lines.extend(bytes.split(|&b| b == b'\n').map(|l| trim_line(l).to_vec()));
            }
        }
        Err(e) if std::env::var_os("CI").is_some() => panic!("{real}: {e}"),
        Err(_) => eprintln!("skipping the real events: {real} not present"),
    }
    lines.retain(|l| !l.is_empty());
    for line in &lines {
        assert_paths_agree(line);
    }
}

#[test]
fn canonical_head_reads_what_the_general_loop_reads_on_its_edges() {
    // Every way the head can stop early or go wrong: each prefix of a
    // canonical head, each byte of it replaced, keys out of order,
    // non-string values, escapes and bad escapes in the values.
    let head = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5b4b3c2a-1d0e-4f9a-8b7c-6d5e4f3a2b1c","stage":"ResponseComplete","requestURI":"/api/v1/pods?watch=true\u0026x=1","verb":"watch","userAgent":"e2e.test/v1.34.0 -- [sig-node] Pods","a":{}}"#;
    for cut in 0..head.len() {
        let mut line = head[..cut].to_vec();
        assert_paths_agree(&line);
        line.push(b'}');
        assert_paths_agree(&line);
    }
    for at in 0..head.len() {
        for with in [b'"', b'\\', b'}', b',', b' ', b'x', 0x01] {
            let mut line = head.to_vec();
            line[at] = with;
            assert_paths_agree(&line);
        }
    }
    let variants: [&[u8]; 8] = [
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"RequestReceived","requestURI":"/api","verb":"deletecollections"}"#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"RequestReceived","requestURI":"/api","verb":"lis","a":1}"#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","stage":"RequestReceived","auditID":"x","requestURI":"/api","verb":"get"}"#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":7,"stage":"RequestReceived","requestURI":"/api","verb":"get"}"#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"RequestReceived","requestURI":"/api","verb":"get","verb":"list"}"#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Meta\u0064ata","auditID":"\u0078","stage":"Request\q","requestURI":"/api","verb":"get"}"#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"RequestReceived","requestURI":"/api","verb":"get"} "#,
        br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","level":"Metadata","auditID":"x","stage":"RequestReceived","requestURI":"/api","verb":"get"}"#,
    ];
    for line in variants {
        assert_paths_agree(line);
    }
}
