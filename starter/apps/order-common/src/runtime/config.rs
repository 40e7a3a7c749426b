//! Typed configuration read from environment variables.
//!
//! Every value is parsed and checked once, at start-up, and a bad value stops
//! the process with an error that names the variable. Parsing goes through a
//! lookup function rather than `std::env` directly so tests can feed any
//! environment without touching the process's own.

use std::{fmt::Display, str::FromStr, time::Duration};

/// A configuration value that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(name: &str, value: &str, reason: impl Display) -> Self {
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Looks a variable up by name.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Reads variables through a lookup function (the process environment in
/// production, a map in tests).
pub struct Env<'a> {
    lookup: Lookup<'a>,
}

impl Env<'static> {
    /// The process environment. Empty values count as unset, as most
    /// orchestrators render an unset optional variable as `NAME=`.
    pub fn process() -> Self {
        Self::from_fn(|name| std::env::var(name).ok())
    }
}

impl<'a> Env<'a> {
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self {
            lookup: Box::new(lookup),
        }
    }

    pub fn from_pairs(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Self::from_fn(move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    /// The raw value, `None` when unset or empty.
    pub fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    /// A parsed value, or `default` when unset.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.parse(name)?.unwrap_or(default))
    }

    /// A parsed value, `None` when unset.
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.raw(name)
            .map(|raw| {
                raw.trim()
                    .parse::<T>()
                    .map_err(|err| ConfigError::new(name, &raw, err))
            })
            .transpose()
    }

    /// An integer within `min..=max`, or `default` when unset.
    pub fn int_in_range(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let value = self.parse_or(name, default)?;
        if !(min..=max).contains(&value) {
            return Err(ConfigError::new(
                name,
                &value.to_string(),
                format!("must be between {min} and {max}"),
            ));
        }
        Ok(value)
    }

    /// A duration given in milliseconds within `min..=max` ms.
    pub fn millis(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.int_in_range(name, default, min, max)
            .map(Duration::from_millis)
    }

    /// A duration given in seconds within `min..=max` s.
    pub fn seconds(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.int_in_range(name, default, min, max)
            .map(Duration::from_secs)
    }

    /// A DynamoDB table name (3–255 of `[A-Za-z0-9_.-]`, AWS's own rule).
    pub fn table_name(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        let value = self.raw(name).unwrap_or_else(|| default.to_owned());
        let valid_chars = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !(3..=255).contains(&value.len()) || !valid_chars {
            return Err(ConfigError::new(
                name,
                &value,
                "a DynamoDB table name is 3-255 characters of A-Z a-z 0-9 _ - .",
            ));
        }
        Ok(value)
    }

    /// An absolute `http://` or `https://` URL, without a trailing slash.
    pub fn http_url(&self, name: &str) -> Result<Option<String>, ConfigError> {
        let Some(value) = self.raw(name) else {
            return Ok(None);
        };
        let value = value.trim().trim_end_matches('/').to_owned();
        let rest = value
            .strip_prefix("http://")
            .or_else(|| value.strip_prefix("https://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                Ok(Some(value))
            }
            _ => Err(ConfigError::new(
                name,
                &value,
                "must be an absolute http:// or https:// URL",
            )),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers.
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

impl FromStr for LogFormat {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            _ => Err("expected json or pretty"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_aws_rules() {
        let env = Env::from_pairs(&[("A", "ok_table-1.x"), ("B", "no spaces"), ("C", "ab")]);
        assert_eq!(env.table_name("A", "d").unwrap(), "ok_table-1.x");
        assert!(env.table_name("B", "d").is_err());
        assert!(env.table_name("C", "d").is_err());
        assert_eq!(env.table_name("UNSET", "orders").unwrap(), "orders");
    }

    #[test]
    fn empty_values_count_as_unset() {
        let env = Env::from_pairs(&[("PORT", "  ")]);
        assert_eq!(env.int_in_range("PORT", 8000, 0, 65535).unwrap(), 8000);
    }
}
