//! X12 837 reader figures: parse throughput on a ~100 MB file, peak memory when
//! streaming it from disk, and the speed against pyx12 on the sample files.
//!
//!   cargo bench -p mso-x12 --bench x12_837
//!
//! Env: `X12_BENCH_MB` (size of the generated file, default 100), `X12_BENCH_NO_PYX12=1`
//! to skip the pyx12 comparison. The generated file, pyx12's venv and its scratch
//! copies live under the target directory, never in the repository.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mso_x12::ack999::{self, AckEnvelope, Stamp};
use mso_x12::{Event, Parser, SegmentReader};

const SOURCE: &str = "837P_imsweb_x12_multiple_transactions.txt";
const PYX12_VERSION: &str = "4.0.0";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        rss_child(Path::new(&args[i + 1]));
        return;
    }
    let target = target_dir();
    let mb: usize = std::env::var("X12_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let big = target.join(format!("x12-bench-{mb}mb.837"));
    let claims = generate(&big, mb * 1_000_000);
    let data = std::fs::read(&big).expect("read the generated file");
    let size = data.len() as f64 / 1e6;
    println!(
        "X12 837 reader ({} cores online)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "file: {} ({size:.1} MB, {claims} claims, from {SOURCE})",
        big.display()
    );

    // Throughput, in memory, one thread: best of 5, by the thread's CPU time (the
    // wall clock is shown too; they differ when other processes share the cores).
    let best = |f: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| {
                let (t, cpu) = (Instant::now(), thread_cpu());
                std::hint::black_box(f());
                (thread_cpu() - cpu, t.elapsed())
            })
            .min()
            .unwrap_or_default()
    };
    let segments_only = best(&|| {
        let mut r = SegmentReader::from_slice(&data);
        let mut n = 0;
        while let Some(s) = r.next_segment() {
            n += s.map_or(0, |s| s.element_count());
        }
        n
    });
    let full = best(&|| count_claims(Parser::from_slice(&data)));
    let streamed = best(&|| count_claims(Parser::from_reader(std::fs::File::open(&big).unwrap())));
    let line = |what: &str, (cpu, wall): (Duration, Duration)| {
        println!(
            "{what:<40} {:>6.0} MB/s  ({:.3} s CPU, {:.3} s wall: {:.0} MB/s)",
            size / cpu.as_secs_f64(),
            cpu.as_secs_f64(),
            wall.as_secs_f64(),
            size / wall.as_secs_f64()
        )
    };
    line("segments and elements only (slice)", segments_only);
    line("parse + validate + build claims (slice)", full);
    line("the same, streamed from the file", streamed);
    assert_eq!(count_claims(Parser::from_slice(&data)), claims);

    // Peak memory of a separate process that streams the file.
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--rss-child")
        .arg(&big)
        .output()
        .unwrap();
    let child = String::from_utf8_lossy(&out.stdout);
    print!("{child}");
    let rss: Vec<f64> = child
        .lines()
        .find_map(|l| l.strip_prefix("rss-mb "))
        .map(|l| l.split(' ').filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_default();

    let pyx12 = if std::env::var("X12_BENCH_NO_PYX12").is_err() {
        compare_pyx12(&target)
    } else {
        None
    };
    report(size, [full, streamed, segments_only], &rss, pyx12.as_ref());
}

/// The figures as docs/performance.md shows them (`cargo bench -p perf-report`
/// puts the block there), and the pyx12 comparison's plot.
fn report(
    size: f64,
    [full, streamed, segments]: [(Duration, Duration); 3],
    rss: &[f64],
    pyx12: Option<&Pyx12>,
) {
    let rate = |(cpu, _): (Duration, Duration)| size / cpu.as_secs_f64();
    println!("\n<!-- report:x12 -->");
    println!("| what | figure | target |\n|---|---|---|");
    println!(
        "| parse + envelope checks + build every claim, from memory | **{:.0} MB/s** ({:.2} s) | at least 200 MB/s |",
        rate(full),
        full.0.as_secs_f64()
    );
    println!(
        "| the same, streamed from the file (`Parser::from_reader(File)`) | **{:.0} MB/s** | |",
        rate(streamed)
    );
    println!(
        "| segments and elements only (`SegmentReader`) | {:.0} MB/s | |",
        rate(segments)
    );
    if let [after, before] = rss {
        println!(
            "| peak RSS (VmHWM) of a fresh process streaming the {size:.0} MB file | **{after:.1} MB** ({before:.1} MB before it starts) | under 64 MB |"
        );
    }
    if let Some(p) = pyx12 {
        println!(
            "| pyx12 {PYX12_VERSION} against us, on the 837 samples it can read | **{:.0} times slower** ({:.2} s against {:.1} ms) | at least 20 times |",
            p.py_total / p.ours_total.max(1e-12),
            p.py_total,
            p.ours_total * 1e3
        );
        if let Some(big) = p.files.iter().max_by_key(|f| f.bytes) {
            println!(
                "| the same, on the {} KB sample alone | {:.0} times slower ({:.2} s against {:.1} ms) | |",
                big.bytes / 1000,
                big.py / big.ours,
                big.py,
                big.ours * 1e3
            );
        }
    }
    println!("<!-- /report:x12 -->");
    if let Some(p) = pyx12 {
        // The eight largest files, where the comparison means most.
        let mut files: Vec<&PyxFile> = p.files.iter().collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.bytes));
        files.truncate(8);
        let plot = serde_json::json!({
            "title": format!("837 files: pyx12 {PYX12_VERSION} against mso-x12 (one file, in process)"),
            "y_label": "ms per file (log)",
            "log": true,
            "categories": files.iter().map(|f| format!("{} KB", f.bytes.div_ceil(1000))).collect::<Vec<_>>(),
            "series": [
                {"name": "pyx12 (validate, 997)", "values": files.iter().map(|f| f.py * 1e3).collect::<Vec<_>>()},
                {"name": "mso-x12 (parse, validate, claims, 999)", "values": files.iter().map(|f| f.ours * 1e3).collect::<Vec<_>>()},
            ],
        });
        println!("<!-- plot:x12-vs-pyx12 {plot} -->");
    }
}

/// The pyx12 comparison: per file, seconds each.
struct Pyx12 {
    files: Vec<PyxFile>,
    py_total: f64,
    ours_total: f64,
}

struct PyxFile {
    bytes: usize,
    py: f64,
    ours: f64,
}

fn count_claims<I: mso_x12::Input>(p: Parser<I>) -> usize {
    p.filter(|e| matches!(e, Ok(Event::Claim(_)) | Ok(Event::ClaimError(_))))
        .count()
}

fn rss_child(path: &Path) {
    let before = vm_hwm();
    let t = Instant::now();
    let claims = count_claims(Parser::from_reader(std::fs::File::open(path).unwrap()));
    let took = t.elapsed();
    let after = vm_hwm();
    println!(
        "streamed from disk in a fresh process: {claims} claims in {:.2} s, peak RSS (VmHWM) {:.1} MB (the process before parsing: {:.1} MB)",
        took.as_secs_f64(),
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
    println!(
        "rss-mb {:.1} {:.1}",
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`, nanoseconds).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

/// VmHWM in kB.
fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name)
}

/// Writes `path` (about `bytes` long): one ISA/GS, transaction sets of 1,000 claims
/// each, the claims (HL 20 to SE) of the source's 312 transaction sets repeated,
/// with the right SE, GE and IEA counts. Returns the number of claims.
fn generate(path: &Path, bytes: usize) -> usize {
    let src = std::fs::read(sample(SOURCE)).unwrap();
    // Each source set's body from its first HL to its SE, as segment texts.
    let mut header: Vec<String> = Vec::new();
    let mut bodies: Vec<Vec<String>> = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut r = SegmentReader::from_slice(&src);
    while let Some(Ok(s)) = r.next_segment() {
        let text = String::from_utf8_lossy(s.raw()).into_owned();
        match s.id() {
            b"ST" => current = None,
            b"HL" if current.is_none() => current = Some(vec![text]),
            b"SE" => bodies.extend(current.take()),
            b"BHT" | b"NM1" | b"PER" if current.is_none() && header.len() < 5 => header.push(text),
            _ => {
                if let Some(c) = &mut current {
                    c.push(text);
                }
            }
        }
    }
    let claims_per_body = bodies[0].iter().filter(|s| s.starts_with("CLM*")).count();
    let isa = "ISA*00*          *00*          *ZZ*SUBMITTERS.ID  *ZZ*RECEIVERS.ID   *260131*1200*^*00501*000000001*0*T*:~\n";
    let mut out = String::with_capacity(bytes + 1_000_000);
    out.push_str(isa);
    out.push_str("GS*HC*SENDER CODE*RECEIVER CODE*20260131*1200*1*X*005010X222A1~\n");
    let (mut sets, mut claims, mut next) = (0, 0, 0);
    while out.len() < bytes {
        sets += 1;
        let st = format!("{sets:04}");
        out.push_str(&format!("ST*837*{st}*005010X222A1~\n"));
        let mut count = 1;
        for h in &header {
            out.push_str(h);
            out.push_str("~\n");
            count += 1;
        }
        for _ in 0..(1000 / claims_per_body) {
            for seg in &bodies[next % bodies.len()] {
                out.push_str(seg);
                out.push_str("~\n");
                count += 1;
            }
            claims += claims_per_body;
            next += 1;
        }
        out.push_str(&format!("SE*{}*{st}~\n", count + 1));
    }
    out.push_str(&format!("GE*{sets}*1~\nIEA*1*000000001~\n"));
    std::fs::write(path, out).unwrap();
    claims
}

/// pyx12's validator (`x12valid`'s engine) against ours on the same 837 files.
fn compare_pyx12(target: &Path) -> Option<Pyx12> {
    let venv = target.join("pyx12-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        println!("installing pyx12 {PYX12_VERSION} into {}", venv.display());
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", &format!("pyx12=={PYX12_VERSION}")])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            println!("pyx12 comparison skipped: could not install pyx12");
            return None;
        }
    }
    // x12valid writes a .997 beside each input: give it copies.
    let scratch = target.join("pyx12-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(sample(""))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("837"))
        .collect();
    files.sort();
    for f in &files {
        std::fs::copy(sample(f), scratch.join(f)).unwrap();
    }
    let script = target.join("pyx12_time.py");
    std::fs::write(&script, PY_TIMER).unwrap();
    let t = Instant::now();
    let out = Command::new(&python)
        .arg(&script)
        .args(files.iter().map(|f| scratch.join(f)))
        .output()
        .unwrap();
    let pyx12_wall = t.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let env = AckEnvelope {
        interchange_control_number: 1,
        group_control_number: 1,
        first_set_control_number: 1,
        stamp: Stamp::new("2026-01-31", "1200").unwrap(),
        our_qualifier: "ZZ".into(),
        our_id: "MSO".into(),
    };
    println!();
    println!(
        "against pyx12 {PYX12_VERSION} (x12valid's x12n_document, in-process, per file; ours: parse + validate + build + write the 999)"
    );
    println!(
        "{:<48} {:>7} {:>10} {:>10} {:>7}  {:<8} pyx12 errors (first)",
        "file", "bytes", "pyx12", "mso-x12", "ratio", "our 999"
    );
    let (mut py_total, mut ours_total) = (0.0, 0.0);
    let mut compared = Vec::new();
    for line in text.lines() {
        let mut parts = line.split('\t');
        let (Some(path), Some(secs), Some(status)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let py_errors = parts.next().unwrap_or("?");
        let py_first = parts.next().unwrap_or("");
        let name = Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Ok(py) = secs.parse::<f64>() else {
            continue;
        };
        if status != "ok" {
            println!(
                "{name:<48} pyx12 cannot read it ({status}: no map for its version); left out"
            );
            continue;
        }
        let data = std::fs::read(sample(&name)).unwrap();
        let runs = (200_000 / data.len().max(1)).clamp(3, 2000);
        let t = Instant::now();
        for _ in 0..runs {
            for e in Parser::from_slice(&data) {
                if let Ok(Event::Interchange(ic)) = e {
                    std::hint::black_box(ack999::write(&ic, &env));
                }
            }
        }
        let ours = t.elapsed().as_secs_f64() / runs as f64;
        py_total += py;
        ours_total += ours;
        compared.push(PyxFile {
            bytes: data.len(),
            py,
            ours,
        });
        let p = mso_x12::Parsed::from_slice(&data);
        // The 999 in brief: AK901 per group, or TA1 when the interchange is rejected;
        // "312xR" for 312 interchanges that all got R.
        let verdicts: Vec<String> = p
            .interchanges
            .iter()
            .map(|i| match i.errors.first().and_then(|n| n.code) {
                Some(code) => format!("TA1 {code}"),
                None => i
                    .groups
                    .iter()
                    .map(|g| g.verdict.code())
                    .collect::<Vec<_>>()
                    .join(""),
            })
            .collect();
        let verdict = match verdicts.as_slice() {
            [one] => one.clone(),
            [first, rest @ ..] if rest.iter().all(|v| v == first) => {
                format!("{}x{first}", verdicts.len())
            }
            all => all.join(" "),
        };
        println!(
            "{name:<48} {:>7} {:>8.2}ms {:>8.3}ms {:>6.0}x  {verdict:<8} {py_errors} ({py_first})",
            data.len(),
            py * 1e3,
            ours * 1e3,
            py / ours
        );
    }
    println!(
        "{:<48} {:>7} {:>8.2}ms {:>8.3}ms {:>6.0}x",
        "all files pyx12 could process",
        "",
        py_total * 1e3,
        ours_total * 1e3,
        py_total / ours_total.max(1e-12)
    );
    println!(
        "(pyx12 process for all files, interpreter start included: {:.2} s wall)",
        pyx12_wall.as_secs_f64()
    );
    if !out.status.success() {
        println!(
            "pyx12 timer stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(Pyx12 {
        files: compared,
        py_total,
        ours_total,
    })
}

/// Times pyx12's validator per file, as x12valid runs it, excluding interpreter start.
const PY_TIMER: &str = r#"
import logging, sys, tempfile, time
import pyx12.params, pyx12.x12n_document

class Count(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors = 0
        self.first = ""
    def emit(self, record):
        self.errors += 1
        if not self.first:
            self.first = record.getMessage().replace("\t", " ").replace("\n", " ")[:60]

log = logging.getLogger("pyx12")
log.propagate = False
param = pyx12.params.params()
for path in sys.argv[1:]:
    status = "ok"
    best = None
    for _ in range(3):
        count = Count()
        log.handlers = [count]
        t = time.perf_counter()
        try:
            with tempfile.TemporaryFile(mode="w+", encoding="ascii") as fd_997:
                pyx12.x12n_document.x12n_document(param=param, src_file=path, fd_997=fd_997,
                    fd_html=None, fd_xmldoc=None, fd_json=None, map_path=None)
        except Exception as e:
            status = type(e).__name__
        took = time.perf_counter() - t
        best = took if best is None else min(best, took)
        if status != "ok":
            break
    print(f"{path}\t{best}\t{status}\t{count.errors}\t{count.first}", flush=True)
"#;
