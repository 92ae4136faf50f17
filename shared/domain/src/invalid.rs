use std::borrow::Cow;
use std::fmt;

/// Why a value was refused: a stable machine `code` and a human `message`.
///
/// Messages describe the rule, never the value, so they are safe to log and to
/// show in a problem+json response even when the value is PHI (a member ID, a
/// date of birth).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

impl Invalid {
    pub const fn new(code: &'static str, message: &'static str) -> Self {
        Invalid {
            code,
            message: Cow::Borrowed(message),
        }
    }

    pub fn owned(code: &'static str, message: String) -> Self {
        Invalid {
            code,
            message: Cow::Owned(message),
        }
    }

    pub const fn required() -> Self {
        Invalid::new("required", "is required")
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}
