//! `mso intake FILE`: hands a fax or email to the running `mso serve` as the
//! fax gateway or SES drops it into the intake bucket. The server stores it,
//! writes the gateway's sidecar (sender and receive time) and runs the intake
//! bucket's handler with S3's event, exactly as the Lambda runs in AWS.
//!
//! The drop is authorised with a dev token signed by the data directory's key
//! (so only someone with the server's data directory can drop files), and the
//! server takes it from this machine only.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::data_dir::DataDir;
use crate::dev_token::{DevTokens, TokenRequest};
use crate::server::LOCAL_INTAKE_PATH;

/// Where the file came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Channel {
    Fax,
    Email,
}

impl Channel {
    /// `.eml` is an email; anything else (PDF, TIFF) a fax.
    pub fn of(file: &Path) -> Channel {
        match file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("eml") => Channel::Email,
            _ => Channel::Fax,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Channel::Fax => "fax",
            Channel::Email => "email",
        }
    }
}

pub struct Drop<'a> {
    pub file: &'a Path,
    pub channel: Channel,
    /// The sending fax number (the gateway's caller ID); faxes only.
    pub from: Option<String>,
    /// The gateway's receive time, RFC 3339; faxes only (an email carries its own).
    pub received_at: Option<String>,
    pub port: u16,
}

/// Drops the file and returns the server's report (JSON).
pub async fn run(dir: &DataDir, drop: &Drop<'_>) -> anyhow::Result<String> {
    let bytes =
        std::fs::read(drop.file).with_context(|| format!("cannot read {}", drop.file.display()))?;
    if let Some(at) = &drop.received_at {
        at.parse::<jiff::Timestamp>().with_context(|| {
            format!("--received-at {at:?} is not an RFC 3339 instant (2026-03-02T09:15:00Z)")
        })?;
    }
    if drop.channel == Channel::Email && (drop.from.is_some() || drop.received_at.is_some()) {
        bail!(
            "--from and --received-at are the fax gateway's; an email carries its own From and Received headers"
        );
    }
    let token = DevTokens::new(&dir.jwt_key()?).mint(
        &TokenRequest {
            org: dir.policy().ipa.id.clone(),
            roles: vec!["intake_clerk".into()],
            npis: Vec::new(),
            subject: Some("mso-intake".into()),
            ttl_minutes: 5,
        },
        jiff::Timestamp::now(),
    )?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("channel", drop.channel.as_str());
    if let Some(ext) = drop.file.extension().and_then(|e| e.to_str()) {
        query.append_pair("ext", ext);
    }
    if let Some(from) = &drop.from {
        query.append_pair("from", from);
    }
    if let Some(at) = &drop.received_at {
        query.append_pair("received_at", at);
    }
    let head = format!(
        "POST {LOCAL_INTAKE_PATH}?{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        query.finish(),
        bytes.len(),
        port = drop.port,
    );
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", drop.port))
            .await
            .with_context(|| {
                format!(
                    "no `mso serve` on port {} (start it first, with the same --port and --data-dir)",
                    drop.port
                )
            })?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&bytes).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        anyhow::Ok(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(120), exchange)
        .await
        .context("the server did not answer within 120 seconds")??;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    // Bodies are small and sent whole (Content-Length), never chunked, here.
    match status {
        200..=299 => Ok(body.to_string()),
        _ => bail!("the server refused the file ({status}): {body}"),
    }
}
