//! Regenerates docs/performance.md, with one command:
//!
//! ```text
//! cargo bench -p perf-report -- [BENCH..] [--no-run]
//! ```
//!
//! It runs each benchmark of [`BENCHES`] (all, or those named) and keeps its
//! output in `target/perf/<bench>.log`. A benchmark reports by printing
//! markdown between `<!-- report:ID -->` and `<!-- /report:ID -->` lines, and
//! plots as `<!-- plot:ID {json} -->` lines (a [`Plot`]). Each block replaces
//! what lies between the same two markers in docs/performance.md (the prose
//! around them is written by people and stays); each plot is drawn to
//! `docs/perf/ID.svg`, which the document links. A block whose markers the
//! document lacks is an error, so nothing measured is silently dropped.
//! `--no-run` splices and draws from the logs of the last run.
//!
//! The whole run takes a while (the cold-start meter builds every Lambda binary
//! with fat LTO; the load runs hold fixed rates for seconds each): it is a tool
//! for a quiet machine, not part of the tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use plotters::prelude::*;
use plotters::style::text_anchor;
use serde::Deserialize;

/// Every benchmark that reports into docs/performance.md: its name and how it runs.
const BENCHES: &[(&str, Run)] = &[
    (
        "handlers",
        Run::Criterion(&[
            &[
                "bench",
                "-p",
                "eligibility",
                "--no-default-features",
                "--bench",
                "lookup",
            ],
            &[
                "bench",
                "-p",
                "claims",
                "--no-default-features",
                "--bench",
                "claims",
            ],
            &["bench", "-p", "documents", "--bench", "documents"],
            &["bench", "-p", "intake", "--bench", "parse"],
            &[
                "bench",
                "-p",
                "disputes",
                "--no-default-features",
                "--bench",
                "disputes",
            ],
        ]),
    ),
    (
        "x12",
        Run::Prints(&["bench", "-p", "mso-x12", "--bench", "x12_837"]),
    ),
    (
        "claims-load",
        Run::Prints(&["bench", "--bench", "claims_load"]),
    ),
    (
        "serve-load",
        Run::Prints(&["bench", "--bench", "serve_load"]),
    ),
    (
        "cost-model",
        Run::Prints(&["bench", "--bench", "cost_model"]),
    ),
    (
        "cold-start",
        // 21 runs, as every table the document quotes: the meter's 95% intervals
        // narrow with the square root of the runs, so 9 would leave them about
        // half again as wide.
        Run::Prints(&[
            "bench",
            "-p",
            "cold-start",
            "--profile",
            "meter",
            "--",
            "--runs",
            "21",
        ]),
    ),
];

/// How a benchmark gives its figures.
enum Run {
    /// One `cargo` command that prints its report blocks and plots.
    Prints(&'static [&'static str]),
    /// Criterion benches (`cargo` commands): the report is made here, from the
    /// estimates criterion keeps under target/criterion.
    Criterion(&'static [&'static [&'static str]]),
}

const DOC: &str = "docs/performance.md";
const PLOTS: &str = "docs/perf";

/// A grouped bar chart: one group per category, one bar per series.
#[derive(Debug, Deserialize)]
struct Plot {
    title: String,
    y_label: String,
    /// A logarithmic axis, for series orders of magnitude apart.
    #[serde(default)]
    log: bool,
    categories: Vec<String>,
    series: Vec<Series>,
}

#[derive(Debug, Deserialize)]
struct Series {
    name: String,
    values: Vec<f64>,
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let root = root.canonicalize().context("the repository root")?;
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let run = !args.iter().any(|a| a == "--no-run");
    let named: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    for name in &named {
        if !BENCHES.iter().any(|(b, _)| b == name) {
            bail!("no benchmark {name}; they are: {}", names().join(", "));
        }
    }
    let logs = root.join("target/perf");
    std::fs::create_dir_all(&logs)?;

    let mut output = String::new();
    for (name, how) in BENCHES {
        if !named.is_empty() && !named.contains(name) {
            continue;
        }
        let log = logs.join(format!("{name}.log"));
        if run {
            let printed = match how {
                Run::Prints(cargo) => cargo_run(&root, name, cargo, &log)?,
                Run::Criterion(commands) => {
                    // The run's start, so `--no-run` can make the report again
                    // from the same criterion results.
                    let started = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)?
                        .as_secs();
                    let mut printed = format!("criterion-since {started}\n");
                    for cargo in *commands {
                        printed.push_str(&cargo_run(&root, name, cargo, &log)?);
                    }
                    printed
                }
            };
            std::fs::write(&log, printed)?;
        }
        let printed = std::fs::read_to_string(&log)
            .with_context(|| format!("{}: run it first (without --no-run)", log.display()))?;
        if let Run::Criterion(_) = how {
            let since = printed
                .lines()
                .find_map(|l| l.strip_prefix("criterion-since "))
                .and_then(|s| s.trim().parse().ok())
                .context("the log has no criterion-since line: run it again")?;
            let since = std::time::UNIX_EPOCH + std::time::Duration::from_secs(since);
            output.push_str(&criterion_report(
                name,
                &root.join("target/criterion"),
                since,
            )?);
        } else {
            output.push_str(&printed);
        }
        output.push('\n');
    }

    let (blocks, plots) = parse(&output)?;
    let doc_path = root.join(DOC);
    let doc = std::fs::read_to_string(&doc_path)?;
    let doc = splice(&doc, &blocks)?;
    std::fs::write(&doc_path, doc)?;
    let plot_dir = root.join(PLOTS);
    std::fs::create_dir_all(&plot_dir)?;
    for (id, plot) in &plots {
        draw(plot, &plot_dir.join(format!("{id}.svg")))?;
    }
    eprintln!(
        "perf-report: {} block(s) into {DOC} ({}), {} plot(s) into {PLOTS}/",
        blocks.len(),
        blocks.keys().cloned().collect::<Vec<_>>().join(", "),
        plots.len()
    );
    Ok(())
}

/// Runs `cargo ARGS` in the repository; its standard output.
fn cargo_run(root: &Path, name: &str, cargo: &[&str], log: &Path) -> anyhow::Result<String> {
    eprintln!("perf-report: cargo {}", cargo.join(" "));
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(cargo)
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {name}"))?;
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        std::fs::write(log, &printed)?;
        bail!(
            "{name} failed ({}); its output is in {}",
            out.status,
            log.display()
        );
    }
    Ok(printed)
}

/// The criterion results written since `since`: a table of medians (with
/// criterion's 95% interval) per group and case, and a plot of them.
fn criterion_report(
    name: &str,
    dir: &Path,
    since: std::time::SystemTime,
) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Id {
        group_id: String,
        function_id: Option<String>,
    }
    #[derive(Deserialize)]
    struct Estimate {
        point_estimate: f64,
        confidence_interval: Interval,
    }
    #[derive(Deserialize)]
    struct Interval {
        lower_bound: f64,
        upper_bound: f64,
    }
    #[derive(Deserialize)]
    struct Estimates {
        median: Estimate,
    }
    let mut rows = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.file_name().is_none_or(|f| f != "estimates.json")
                || !path.parent().is_some_and(|p| p.ends_with("new"))
            {
                continue;
            }
            if entry.metadata()?.modified()? < since {
                continue;
            }
            let new = path.parent().context("new/")?;
            let id: Id =
                serde_json::from_str(&std::fs::read_to_string(new.join("benchmark.json"))?)?;
            let e: Estimates = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            rows.push((id.group_id, id.function_id.unwrap_or_default(), e.median));
        }
    }
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let time = |ns: f64| match ns {
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.1} µs", ns / 1e3),
        ns => format!("{ns:.0} ns"),
    };
    let mut out = format!(
        "<!-- report:{name} -->\n| group | case | median | 95% interval |\n|---|---|---|---|\n"
    );
    for (group, case, m) in &rows {
        out.push_str(&format!(
            "| {group} | {case} | **{}** | {} to {} |\n",
            time(m.point_estimate),
            time(m.confidence_interval.lower_bound),
            time(m.confidence_interval.upper_bound)
        ));
    }
    out.push_str(&format!("<!-- /report:{name} -->\n"));
    // The plot shows the requests and events a function handles; the table also
    // has the parts (presigning) and the refused bombs.
    let plotted: Vec<_> = rows
        .iter()
        .filter(|(g, _, _)| g != "presign" && !g.contains("bombs"))
        .collect();
    let plot = serde_json::json!({
        "title": "Warm handler latency, in-process on the embedded store (criterion median)",
        "y_label": "µs (log)",
        "log": true,
        "categories": plotted.iter().map(|(_, c, _)| c.chars().take(26).collect::<String>()).collect::<Vec<_>>(),
        "series": [{"name": "median", "values": plotted.iter().map(|(_, _, m)| m.point_estimate / 1e3).collect::<Vec<_>>()}],
    });
    out.push_str(&format!("<!-- plot:{name} {plot} -->\n"));
    Ok(out)
}

fn names() -> Vec<&'static str> {
    BENCHES.iter().map(|(n, _)| *n).collect()
}

/// The report blocks and plots in a benchmark's output.
fn parse(output: &str) -> anyhow::Result<(BTreeMap<String, String>, BTreeMap<String, Plot>)> {
    let mut blocks = BTreeMap::new();
    let mut plots = BTreeMap::new();
    let mut open: Option<(String, String)> = None;
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- plot:") {
            let rest = rest
                .strip_suffix("-->")
                .context("a plot line ends with -->")?
                .trim();
            let (id, json) = rest
                .split_once(' ')
                .context("a plot line is `<!-- plot:ID {json} -->`")?;
            let plot: Plot = serde_json::from_str(json).with_context(|| format!("plot {id}"))?;
            plots.insert(id.to_string(), plot);
        } else if let Some(id) = marker(trimmed, "<!-- /report:") {
            match open.take() {
                Some((open_id, text)) if open_id == id => {
                    blocks.insert(id, text);
                }
                _ => bail!("`<!-- /report:{id} -->` closes no open block"),
            }
        } else if let Some(id) = marker(trimmed, "<!-- report:") {
            if let Some((open_id, _)) = &open {
                bail!("report {id} starts inside report {open_id}");
            }
            open = Some((id, String::new()));
        } else if let Some((_, text)) = &mut open {
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Some((id, _)) = open {
        bail!("report {id} is never closed");
    }
    Ok((blocks, plots))
}

fn marker(line: &str, prefix: &str) -> Option<String> {
    Some(
        line.strip_prefix(prefix)?
            .strip_suffix("-->")?
            .trim()
            .to_string(),
    )
}

/// `doc` with each block between its markers.
fn splice(doc: &str, blocks: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut doc = doc.to_string();
    for (id, text) in blocks {
        let (open, close) = (
            format!("<!-- report:{id} -->\n"),
            format!("<!-- /report:{id} -->"),
        );
        let start = doc.find(&open).with_context(|| {
            format!("{DOC} has no `<!-- report:{id} -->` marker: place it where the block belongs")
        })? + open.len();
        let end = doc[start..]
            .find(&close)
            .with_context(|| format!("{DOC}: `<!-- report:{id} -->` is never closed"))?
            + start;
        doc.replace_range(start..end, text);
    }
    Ok(doc)
}

fn draw(plot: &Plot, path: &Path) -> anyhow::Result<()> {
    let groups = plot.categories.len();
    anyhow::ensure!(
        groups > 0 && !plot.series.is_empty(),
        "{}: nothing to plot",
        plot.title
    );
    for s in &plot.series {
        anyhow::ensure!(
            s.values.len() == groups,
            "{}: {} has {} values for {groups} categories",
            plot.title,
            s.name,
            s.values.len()
        );
    }
    // On a log axis bars are drawn in log10 units, labelled back in units.
    let scale = |v: f64| if plot.log { v.max(1e-9).log10() } else { v };
    let values = plot
        .series
        .iter()
        .flat_map(|s| s.values.iter().map(|v| scale(*v)));
    let (low, high) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Headroom above the tallest bar for the legend.
    let (y0, y1) = if plot.log {
        (low.floor() - 0.2, high.ceil() + 1.0)
    } else {
        (0.0, high * 1.35)
    };

    let width = (160 + groups as u32 * 110).max(640);
    let area = SVGBackend::new(path, (width, 460)).into_drawing_area();
    area.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&area)
        .caption(&plot.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(if groups > 10 { 65 } else { 50 })
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..groups as f64, y0..y1)?;
    let log = plot.log;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(&plot.y_label)
        .y_label_formatter(&|v| {
            let v = if log { 10f64.powf(*v) } else { *v };
            match v {
                v if v >= 100.0 => format!("{v:.0}"),
                v if v >= 1.0 => format!("{v:.1}"),
                v if v >= 0.01 => format!("{v:.2}"),
                0.0 => "0".into(),
                v => format!("{v:.3}"),
            }
        })
        .draw()?;

    let bar = 0.8 / plot.series.len() as f64;
    for (k, series) in plot.series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(series.values.iter().enumerate().map(|(i, v)| {
                let x = i as f64 + 0.1 + k as f64 * bar;
                Rectangle::new([(x, y0), (x + bar * 0.92, scale(*v))], color.filled())
            }))?
            .label(&series.name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    // Category names under their group, on two or three staggered lines so long
    // names do not overlap.
    let rows = if groups > 10 { 3 } else { 2 };
    for (i, name) in plot.categories.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, y0));
        let style = TextStyle::from(("sans-serif", 12)).pos(text_anchor::Pos::new(
            text_anchor::HPos::Center,
            text_anchor::VPos::Top,
        ));
        area.draw(&Text::new(
            name.clone(),
            (x, y + 6 + (i as i32 % rows) * 15),
            style,
        ))?;
    }
    area.present()?;
    Ok(())
}
