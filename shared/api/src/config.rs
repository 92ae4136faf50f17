//! Typed configuration read once at cold start; a missing or bad value stops the
//! function before it serves anything.

use std::fmt;

#[derive(Debug)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment variable {}: {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

/// A variable that must be set and not empty.
pub fn required(variable: &'static str) -> Result<String, ConfigError> {
    match std::env::var(variable) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        Ok(_) => Err(ConfigError {
            variable,
            problem: "is empty".into(),
        }),
        Err(_) => Err(ConfigError {
            variable,
            problem: "is not set".into(),
        }),
    }
}
