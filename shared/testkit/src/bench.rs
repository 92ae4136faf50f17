//! The loop the handler benches time with (criterion's `iter_custom`).

use std::time::{Duration, Instant};

/// Runs `measured` `iters` times, each after `prepare` (not timed), and
/// returns the time `measured` took in all. Every `per_store` runs it starts
/// on a `fresh` environment, so the store stays the size a real one has.
pub async fn timed<E, I>(
    iters: u64,
    per_store: u64,
    fresh: impl AsyncFn() -> E,
    prepare: impl AsyncFn(&E, u64) -> I,
    measured: impl AsyncFn(&E, I),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut e = fresh().await;
    for i in 0..iters {
        if i > 0 && i % per_store == 0 {
            e = fresh().await;
        }
        let input = prepare(&e, i).await;
        let t = Instant::now();
        measured(&e, input).await;
        total += t.elapsed();
    }
    total
}
