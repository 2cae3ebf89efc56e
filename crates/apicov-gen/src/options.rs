//! What to generate: the options of [`generate`](crate::generate).

/// Audit level of the generated events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Level {
    #[default]
    /// No request or response bodies.
    Metadata,
    /// Request bodies for writes.
    Request,
    /// Request and response bodies.
    RequestResponse,
}

/// The kind of traffic in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Shape {
    /// A conformance run's mix: 4% custom resources and aggregated APIs, 2%
    /// non-resource paths, small bodies at the Request levels.
    #[default]
    Default,
    /// Realistic request and response bodies (pods, workloads, config maps,
    /// lists; managedFields, last-applied annotations): lines of 5–50 KB
    /// where a body is logged. Needs `--level request` or `request-response`.
    LargeBodies,
    /// A third of the requests on custom resources (several groups, every
    /// verb, watches) and aggregated APIs (metrics.k8s.io, …): paths in no
    /// spec, so the matcher's misses are exercised.
    CrdHeavy,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Seed of the pseudo-random generator: the same seed gives the same bytes.
    pub seed: u64,
    /// Stop after about this many bytes.
    pub target_bytes: u64,
    /// The audit level to write.
    pub level: Level,
    /// `omitStages: [RequestReceived]`: no RequestReceived events.
    pub omit_request_received: bool,
    /// Add blank, CRLF, torn and non-event lines.
    pub noise: bool,
    /// The kind of traffic (`--shape`).
    pub shape: Shape,
}

impl GenOptions {
    /// A clean log (every stage logged, no noise) of about `target_bytes`.
    pub fn new(seed: u64, target_bytes: u64, level: Level) -> GenOptions {
        GenOptions {
            seed,
            target_bytes,
            level,
            omit_request_received: false,
            noise: false,
            shape: Shape::Default,
        }
    }
}
