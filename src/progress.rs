//! Progress of a scan, on stderr: an indicatif bar on a terminal (with the
//! file being read when there are several), and on anything else (CI logs)
//! one plain line every ~10 s naming the file, plus a final line when any
//! was printed (short runs end with the summary's `Elapsed:` line instead).
//!
//! One handle, cloned freely: `history` advances one bar over all its runs
//! (see [`Progress::shared`]). The engine sees it through
//! [`apicov_core::pipeline::Progress`].

use std::io::{IsTerminal, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Between two plain lines. `APICOV_PROGRESS_INTERVAL_MS` overrides it, so
/// tests can see the lines without waiting.
const LINE_INTERVAL: Duration = Duration::from_secs(10);

/// A progress display over a number of bytes.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Mutex<Inner>>,
    /// Several runs advance this display: a run neither sets its total nor
    /// ends it.
    shared: bool,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

enum Display {
    Hidden,
    Bar(ProgressBar),
    Lines {
        interval: Duration,
        started: Instant,
        last: Instant,
        printed: bool,
    },
}

struct Inner {
    display: Display,
    total: u64,
    position: u64,
    /// `[i/n] name` of the input being read, when there are several.
    input: String,
}

impl Progress {
    /// Progress over `total` bytes; nothing is shown unless `enabled`.
    pub fn new(enabled: bool, total: u64) -> Progress {
        let display = if !enabled {
            Display::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta} {wide_msg}",
                )
                .expect("static template"),
            );
            Display::Bar(bar)
        } else {
            let interval = std::env::var("APICOV_PROGRESS_INTERVAL_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .map_or(LINE_INTERVAL, Duration::from_millis);
            let now = Instant::now();
            Display::Lines {
                interval,
                started: now,
                last: now,
                printed: false,
            }
        };
        Progress {
            inner: Arc::new(Mutex::new(Inner {
                display,
                total,
                position: 0,
                input: String::new(),
            })),
            shared: false,
        }
    }

    /// A handle on the same display for one of several runs: the engine
    /// counts from where it stands and leaves it open.
    pub fn shared(&self) -> Progress {
        Progress {
            inner: self.inner.clone(),
            shared: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding it leaves nothing half-updated
        // that matters for a display.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes done so far.
    pub fn position(&self) -> u64 {
        self.lock().position
    }

    /// Names the input being read (`index` from 0 of `count`); shown only
    /// when there are several.
    pub fn set_input(&self, index: usize, count: usize, name: &str) {
        let mut inner = self.lock();
        inner.input = if count > 1 {
            format!("[{}/{count}] {name}", index + 1)
        } else {
            String::new()
        };
        if let Display::Bar(bar) = &inner.display {
            bar.set_message(inner.input.clone());
        }
    }

    /// Moves to `position` bytes; a plain line is printed when the interval
    /// has passed since the last one.
    pub fn set_position(&self, position: u64) {
        let mut inner = self.lock();
        inner.position = position;
        let line = match &mut inner.display {
            Display::Hidden => None,
            Display::Bar(bar) => {
                bar.set_position(position);
                None
            }
            Display::Lines {
                interval,
                last,
                printed,
                ..
            } => {
                let now = Instant::now();
                if now.duration_since(*last) >= *interval {
                    *last = now;
                    *printed = true;
                    Some(())
                } else {
                    None
                }
            }
        };
        if line.is_some() {
            let text = inner.line();
            write_line(&text);
        }
    }

    /// Ends the display: clears the bar, or prints the final plain line when
    /// plain lines were printed.
    pub fn finish(&self) {
        let inner = self.lock();
        match &inner.display {
            Display::Hidden => {}
            Display::Bar(bar) => bar.finish_and_clear(),
            Display::Lines {
                started, printed, ..
            } => {
                if *printed {
                    write_line(&format!(
                        "apicov: progress: read {} in {:.1} s",
                        mib(inner.position),
                        started.elapsed().as_secs_f64()
                    ));
                }
            }
        }
    }
}

impl apicov_core::pipeline::Progress for Progress {
    fn start(&self, total: u64) -> u64 {
        let mut inner = self.lock();
        if !self.shared {
            inner.total = total;
            if let Display::Bar(bar) = &inner.display {
                bar.set_length(total);
            }
        }
        inner.position
    }

    fn input(&self, index: usize, count: usize, name: &str) {
        self.set_input(index, count, name);
    }

    fn advance(&self, position: u64) {
        self.set_position(position);
    }

    fn finish(&self) {
        if !self.shared {
            Progress::finish(self);
        }
    }
}

impl Inner {
    fn line(&self) -> String {
        let pct = if self.total == 0 {
            100.0
        } else {
            100.0 * self.position as f64 / self.total as f64
        };
        let mut line = format!(
            "apicov: progress: {} of {} ({pct:.0}%)",
            mib(self.position),
            mib(self.total)
        );
        if !self.input.is_empty() {
            line.push_str(", reading ");
            line.push_str(&self.input);
        }
        line
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn write_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_bytes_share_and_input() {
        let inner = Inner {
            display: Display::Hidden,
            total: 4 << 20,
            position: 1 << 20,
            input: "[2/3] b.log.gz".into(),
        };
        assert_eq!(
            inner.line(),
            "apicov: progress: 1.0 MiB of 4.0 MiB (25%), reading [2/3] b.log.gz"
        );
    }
}
