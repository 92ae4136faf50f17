use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Something wrong or missing in an intake object, kept on the intake item for the
/// clerk: a stable `code` and a `message` in plain words.
///
/// Messages name parts by position and type ("attachment 2 (application/pdf)"), never
/// by file name, subject or content, so they carry no PHI and may be logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: Cow<'static, str>,
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
