//! The experiments of the paper's performance study (issue 9), each a
//! function from [`Settings`] to its figures, and what they share: the
//! settings, the progress bar, the repetition loop.

mod breakdown;
mod counters;
mod epoch_length;
mod failover;
mod interrupt_latency;
mod link_speed;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::figure::Figure;
use super::replica::Harness;

/// Options every experiment takes.
#[derive(clap::Args, Clone)]
pub struct Settings {
    /// Short run: fewer points, smaller guests, two repetitions.
    #[arg(long)]
    pub quick: bool,
    /// Where the CSVs, tables and plots go.
    #[arg(long, value_name = "DIR", default_value = "bench-results")]
    pub out: PathBuf,
    /// Repetitions of every measurement (default 3; 2 with --quick).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub reps: Option<u32>,
    /// Epoch lengths to measure, comma-separated (default: the experiment's).
    #[arg(long, value_name = "N,N,..", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: Option<Vec<u64>>,
    /// Engine of the replicas and of their unreplicated baselines.
    #[arg(long, value_name = "ENGINE", value_parser = ["jit", "interp"], default_value = "jit")]
    pub engine: String,
}

impl Settings {
    pub fn reps(&self) -> u32 {
        self.reps.unwrap_or(if self.quick { 2 } else { 3 })
    }

    /// The epoch lengths: given, else `quick` or `full`.
    fn epochs(&self, quick: &[u64], full: &[u64]) -> Vec<u64> {
        self.epochs.clone().unwrap_or_else(|| if self.quick { quick } else { full }.to_vec())
    }
}

/// One experiment: its command name and what it measures.
pub struct Experiment {
    pub name: &'static str,
    pub about: &'static str,
    run: fn(&Settings, &Harness) -> anyhow::Result<Outcome>,
}

/// What an experiment produced: figures, and notes for its report section.
pub struct Outcome {
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

pub const EXPERIMENTS: &[Experiment] = &[
    Experiment { name: "epoch-length", about: epoch_length::ABOUT, run: epoch_length::run },
    Experiment { name: "link", about: link_speed::ABOUT, run: link_speed::run },
    Experiment { name: "interrupt-latency", about: interrupt_latency::ABOUT, run: interrupt_latency::run },
    Experiment { name: "bt-vs-counter", about: counters::ABOUT, run: counters::run },
    Experiment { name: "breakdown", about: breakdown::ABOUT, run: breakdown::run },
    Experiment { name: "failover", about: failover::ABOUT, run: failover::run },
];

/// Runs `experiment`, writes its files into the output directory and a
/// section `NAME.report.md`; returns the section.
pub fn run(experiment: &Experiment, settings: &Settings, harness: &Harness) -> anyhow::Result<String> {
    let started = Instant::now();
    let outcome = (experiment.run)(settings, harness).with_context(|| format!("experiment {}", experiment.name))?;
    let took = started.elapsed();
    let mut section = format!("## {}\n\n{}\n\n", experiment.name, experiment.about);
    for note in &outcome.notes {
        section.push_str(&format!("- {note}\n"));
    }
    section.push_str(&format!(
        "- command: `hbft bench {}{} --reps {} --engine {}`; took {:.0} s\n\n",
        experiment.name,
        if settings.quick { " --quick" } else { "" },
        settings.reps(),
        settings.engine,
        took.as_secs_f64()
    ));
    for figure in &outcome.figures {
        figure.write(&settings.out)?;
        section.push_str(&format!(
            "### {}\n\nRaw samples: [{n}.csv]({n}.csv); values: {}.\n\n{}\n![{}]({n}.svg)\n\n",
            figure.title,
            figure.y_label,
            figure.markdown(),
            figure.title,
            n = figure.name
        ));
    }
    std::fs::write(settings.out.join(format!("{}.report.md", experiment.name)), &section)?;
    Ok(section)
}

/// A progress bar over `total` measurements.
fn progress(name: &str, total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

/// Seconds, for figures in ms.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
