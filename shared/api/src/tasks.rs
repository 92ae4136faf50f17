//! Work done many items at a time, each item a task of its own: on `mso
//! serve`'s multi-thread runtime they run in parallel, on a Lambda's
//! current-thread runtime their requests overlap.

use std::future::Future;

use mso_store::StoreError;

/// Runs `work` on every item, at most `limit` at once, and returns the outcomes
/// in the order they completed. The first failure is returned (tasks still
/// running are dropped with the set); a task that panicked is a failure.
pub async fn spawn_bounded<I, F, Fut, T>(
    items: I,
    limit: usize,
    work: F,
) -> Result<Vec<T>, StoreError>
where
    I: IntoIterator,
    F: Fn(I::Item) -> Fut,
    Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
{
    let mut items = items.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut done = Vec::new();
    loop {
        while running.len() < limit.max(1) {
            let Some(item) = items.next() else { break };
            running.spawn(work(item));
        }
        let Some(joined) = running.join_next().await else {
            return Ok(done);
        };
        done.push(joined.map_err(|e| StoreError::backend("a task of the batch", e))??);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn every_item_is_worked_and_no_more_than_the_limit_at_once() {
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut done = spawn_bounded(0..20u32, 4, |n| {
            let (now, most) = (now.clone(), most.clone());
            async move {
                most.fetch_max(now.fetch_add(1, SeqCst) + 1, SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                now.fetch_sub(1, SeqCst);
                Ok(n * 10)
            }
        })
        .await
        .unwrap();
        done.sort_unstable();
        assert_eq!(done, (0..20).map(|n| n * 10).collect::<Vec<_>>());
        assert_eq!(most.load(SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failure_or_a_panic_fails_the_batch() {
        let failed = spawn_bounded(0..5u32, 2, |n| async move {
            match n {
                3 => Err(StoreError::ConditionFailed),
                _ => Ok(n),
            }
        })
        .await;
        assert!(matches!(failed, Err(StoreError::ConditionFailed)));
        let panicked = spawn_bounded([1u32], 2, |_| async move {
            if true {
                panic!("a bug in the work");
            }
            Ok(())
        })
        .await;
        assert!(matches!(panicked, Err(StoreError::Backend { .. })));
        assert!(
            spawn_bounded(Vec::<u32>::new(), 2, |n| async move { Ok(n) })
                .await
                .unwrap()
                .is_empty()
        );
    }
}
