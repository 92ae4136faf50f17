//! Parses a file repeatedly, for a profiler: `x12_profile FILE [TIMES] [segments|full]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).unwrap();
    let times: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(3);
    let mut n = 0;
    for _ in 0..times {
        if args.get(3).map(String::as_str) == Some("segments") {
            let mut r = mso_x12::SegmentReader::from_slice(&data);
            while let Some(s) = r.next_segment() {
                n += s.map_or(0, |s| s.element_count());
            }
        } else {
            n += mso_x12::Parser::from_slice(&data).count();
        }
    }
    println!("{n}");
}
