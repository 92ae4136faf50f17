use std::error::Error as StdError;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// What can go wrong in any adapter. Callers branch on `ConditionFailed` (someone
/// else wrote first) and on [`StoreError::is_retryable`]; the rest is reported.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write (or one operation of a transaction) did not hold.
    /// Nothing was written.
    #[error("condition failed")]
    ConditionFailed,
    /// The named queue, bucket or table is not configured in this adapter.
    #[error("{0} is not configured")]
    NotConfigured(String),
    /// The caller handed the store something it must refuse (a paging cursor that
    /// is not valid for the query, a record over the size limit, too many
    /// operations in one transaction). Nothing was read or written; the request
    /// is at fault, so this is a 4xx, never a retry.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// A presigned URL or request that is malformed, expired or forged.
    #[error("presigned request refused: {0}")]
    PresignRefused(&'static str),
    /// The backend answered in a way that might succeed if tried again
    /// (throttling, timeouts, 5xx).
    #[error("storage temporarily unavailable: {context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: Source,
    },
    /// Anything else from the backend (misconfiguration, permissions, corrupt data).
    #[error("storage failure: {context}")]
    Backend {
        context: &'static str,
        #[source]
        source: Source,
    },
}

impl StoreError {
    pub fn backend(context: &'static str, source: impl Into<Source>) -> Self {
        StoreError::Backend {
            context,
            source: source.into(),
        }
    }

    pub fn unavailable(context: &'static str, source: impl Into<Source>) -> Self {
        StoreError::Unavailable {
            context,
            source: source.into(),
        }
    }

    /// This error for another item of the same failed request (a batch's):
    /// the same kind and context, the source as its text (a source is not
    /// `Clone`).
    pub fn for_another_item(&self) -> StoreError {
        match self {
            StoreError::ConditionFailed => StoreError::ConditionFailed,
            StoreError::NotConfigured(what) => StoreError::NotConfigured(what.clone()),
            StoreError::InvalidInput(why) => StoreError::InvalidInput(why),
            StoreError::PresignRefused(why) => StoreError::PresignRefused(why),
            StoreError::Unavailable { context, source } => {
                StoreError::unavailable(context, source.to_string())
            }
            StoreError::Backend { context, source } => {
                StoreError::backend(context, source.to_string())
            }
        }
    }

    /// True when trying the same operation again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}
