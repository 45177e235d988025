//! A figure of an experiment: its raw samples (several repetitions of each
//! point of each series), written as a CSV, summarized as a markdown table
//! (min / median / max per point) and drawn as an SVG plot.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// One measurement: repetition `rep` of the point `x` of `series`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub series: String,
    pub x: f64,
    pub rep: u32,
    pub value: f64,
}

/// How the x axis is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Axis {
    /// Powers of two (epoch lengths): a log2 axis labelled 1K, 64K, 16M.
    Log2,
    /// A linear axis of plain numbers.
    Linear,
    /// Categories (x = 0, 1, 2 … index these names); the series are stacked
    /// as bars, each bar the sum of its series' medians.
    Stacked(&'static [&'static str]),
}

/// The samples of one plot, with its labels.
pub struct Figure {
    /// File stem of the CSV, table and plot.
    pub name: &'static str,
    pub title: String,
    pub x_label: &'static str,
    pub y_label: &'static str,
    pub axis: Axis,
    /// A horizontal reference line (1.0 for ratios to a baseline).
    pub reference: Option<f64>,
    pub samples: Vec<Sample>,
}

/// Minimum, median and maximum of a nonempty sample (sorts it).
pub fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    (values[0], median, values[n - 1])
}

/// The min / median / max of the repetitions of one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub series: String,
    pub x: f64,
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Figure {
    pub fn new(name: &'static str, title: impl Into<String>, x_label: &'static str, y_label: &'static str, axis: Axis) -> Figure {
        Figure { name, title: title.into(), x_label, y_label, axis, reference: None, samples: Vec::new() }
    }

    pub fn push(&mut self, series: &str, x: f64, rep: u32, value: f64) {
        self.samples.push(Sample { series: series.to_string(), x, rep, value });
    }

    /// The series in the order they were first measured.
    pub fn series(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.samples {
            if !names.contains(&s.series) {
                names.push(s.series.clone());
            }
        }
        names
    }

    /// Summaries of every point, series in measuring order, x ascending.
    pub fn points(&self) -> Vec<Point> {
        let mut out = Vec::new();
        for series in self.series() {
            let mut by_x: BTreeMap<u64, (f64, Vec<f64>)> = BTreeMap::new();
            for s in self.samples.iter().filter(|s| s.series == series) {
                by_x.entry(s.x.to_bits()).or_insert((s.x, Vec::new())).1.push(s.value);
            }
            let mut xs: Vec<(f64, Vec<f64>)> = by_x.into_values().collect();
            xs.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (x, mut values) in xs {
                let (min, median, max) = spread(&mut values);
                out.push(Point { series: series.clone(), x, n: values.len(), min, median, max });
            }
        }
        out
    }

    /// The x value as the table and the axis show it.
    pub fn x_text(&self, x: f64) -> String {
        match self.axis {
            Axis::Log2 => human_count(x),
            Axis::Linear => format!("{x}"),
            Axis::Stacked(names) => names.get(x as usize).map_or_else(|| format!("{x}"), |n| n.to_string()),
        }
    }

    /// The markdown table: one row per point.
    pub fn markdown(&self) -> String {
        let mut t = format!("| series | {} | n | min | median | max |\n|---|---:|---:|---:|---:|---:|\n", self.x_label);
        for p in self.points() {
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} |",
                p.series,
                self.x_text(p.x),
                p.n,
                number(p.min),
                number(p.median),
                number(p.max)
            );
        }
        t
    }

    /// Writes NAME.csv, NAME.md and NAME.svg into `dir`; returns their paths.
    pub fn write(&self, dir: &Path) -> anyhow::Result<[PathBuf; 3]> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let csv_path = dir.join(format!("{}.csv", self.name));
        let mut w = csv::Writer::from_path(&csv_path).with_context(|| format!("cannot write {}", csv_path.display()))?;
        for s in &self.samples {
            w.serialize(s)?;
        }
        w.flush()?;
        let md_path = dir.join(format!("{}.md", self.name));
        let md = format!("### {}\n\n{}\n![{}]({}.svg)\n", self.title, self.markdown(), self.title, self.name);
        std::fs::write(&md_path, md).with_context(|| format!("cannot write {}", md_path.display()))?;
        let svg_path = dir.join(format!("{}.svg", self.name));
        self.plot(&svg_path).map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", svg_path.display()))?;
        Ok([csv_path, md_path, svg_path])
    }

    fn plot(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let points = self.points();
        let series = self.series();
        let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
        root.fill(&WHITE)?;
        let stacked = matches!(self.axis, Axis::Stacked(_));
        let to_axis = |x: f64| if self.axis == Axis::Log2 { x.max(1.0).log2() } else { x };
        let (x0, x1) = if stacked {
            (-0.5, points.iter().map(|p| p.x).fold(0.0, f64::max) + 0.5)
        } else {
            let lo = points.iter().map(|p| to_axis(p.x)).fold(f64::INFINITY, f64::min);
            let hi = points.iter().map(|p| to_axis(p.x)).fold(f64::NEG_INFINITY, f64::max);
            let pad = ((hi - lo) * 0.05).max(0.5);
            (lo - pad, hi + pad)
        };
        let y_top = if stacked {
            let mut sums: BTreeMap<u64, f64> = BTreeMap::new();
            for p in &points {
                *sums.entry(p.x as u64).or_default() += p.median.max(0.0);
            }
            sums.values().copied().fold(0.0, f64::max)
        } else {
            points.iter().map(|p| p.max).fold(self.reference.unwrap_or(0.0), f64::max)
        };
        let y_top = if y_top > 0.0 { y_top * 1.15 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..y_top)?;
        let axis = self.axis;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&|v: &f64| match axis {
                Axis::Log2 => human_count(2f64.powf(*v).round()),
                Axis::Linear => number(*v),
                Axis::Stacked(names) => {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 { names.get(i as usize).map_or(String::new(), |n| n.to_string()) } else { String::new() }
                }
            })
            .draw()?;
        if let Some(r) = self.reference {
            chart.draw_series(LineSeries::new([(x0, r), (x1, r)], BLACK.mix(0.4)))?;
        }
        let mut base: BTreeMap<u64, f64> = BTreeMap::new();
        for (i, name) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mine: Vec<&Point> = points.iter().filter(|p| &p.series == name).collect();
            if stacked {
                let bars = mine.iter().map(|p| {
                    let bottom = base.entry(p.x as u64).or_default();
                    // A negative remainder (noise) is drawn as nothing; the table shows it.
                    let height = p.median.max(0.0);
                    let rect = Rectangle::new([(p.x - 0.3, *bottom), (p.x + 0.3, *bottom + height)], color.filled());
                    *bottom += height;
                    rect
                });
                chart.draw_series(bars.collect::<Vec<_>>())?.label(name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled())
                });
                continue;
            }
            chart
                .draw_series(LineSeries::new(mine.iter().map(|p| (to_axis(p.x), p.median)), color.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2)));
            // Every repetition as a dot, and the min–max range as a bar.
            let dots = self.samples.iter().filter(|s| &s.series == name).map(|s| Circle::new((to_axis(s.x), s.value), 2, color.filled()));
            chart.draw_series(dots)?;
            let ranges = mine.iter().map(|p| PathElement::new([(to_axis(p.x), p.min), (to_axis(p.x), p.max)], color));
            chart.draw_series(ranges)?;
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).position(SeriesLabelPosition::UpperLeft).draw()?;
        root.present()?;
        Ok(())
    }
}

/// 1024 → "1K", 16777216 → "16M"; other numbers as they are.
pub fn human_count(x: f64) -> String {
    let n = x as u64;
    if n as f64 != x || n == 0 {
        return number(x);
    }
    for (shift, suffix) in [(30, "G"), (20, "M"), (10, "K")] {
        if n % (1 << shift) == 0 {
            return format!("{}{suffix}", n >> shift);
        }
    }
    n.to_string()
}

/// A number with three significant digits or so.
pub fn number(v: f64) -> String {
    if v == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.01 {
        format!("{v:.2}")
    } else {
        format!("{v:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

/// Reads the samples of a CSV written by [`Figure::write`].
pub fn read_csv(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    r.deserialize().map(|row| row.with_context(|| format!("malformed row in {}", path.display()))).collect()
}

    fn figure() -> Figure {
        let mut f = Figure::new("t", "test", "epoch", "slowdown", Axis::Log2);
        for (rep, v) in [3.0, 1.0, 2.0].into_iter().enumerate() {
            f.push("a", 1024.0, rep as u32, v);
        }
        f.push("b", 65536.0, 0, 5.0);
        f.push("a", 16.0, 0, 7.0);
        f
    }

    #[test]
    fn points_summarize_repetitions_in_order() {
        let p = figure().points();
        assert_eq!(p.iter().map(|p| (p.series.as_str(), p.x)).collect::<Vec<_>>(), [("a", 16.0), ("a", 1024.0), ("b", 65536.0)]);
        assert_eq!((p[1].n, p[1].min, p[1].median, p[1].max), (3, 1.0, 2.0, 3.0));
    }

    #[test]
    fn files_round_trip() {
        let dir = std::env::temp_dir().join(format!("hbft-figure-test-{}", std::process::id()));
        let f = figure();
        let [csv, md, svg] = f.write(&dir).unwrap();
        assert_eq!(read_csv(&csv).unwrap(), f.samples);
        assert!(std::fs::read_to_string(md).unwrap().contains("| a | 1K | 3 | 1.00 | 2.00 | 3.00 |"));
        let svg = std::fs::read_to_string(svg).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn counts_are_human() {
        assert_eq!(human_count(1024.0), "1K");
        assert_eq!(human_count(16777216.0), "16M");
        assert_eq!(human_count(1000.0), "1000");
    }
}
