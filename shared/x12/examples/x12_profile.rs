//! Parses a file repeatedly (for a profiler): `x12_profile FILE [TIMES]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).unwrap();
    let times: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(3);
    let mut n = 0;
    for _ in 0..times {
        n += mso_x12::Parser::from_slice(&data).count();
    }
    println!("{n} events");
}
