//! Command-line interface. Errors are reported in one line per problem and a
//! non-zero exit code; `anyhow` is used here and nowhere below.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::data_dir::DataDir;
use crate::{dev_token, import, intake_drop, openapi, server};

#[derive(Parser)]
#[command(
    name = "mso",
    version,
    about = "MSO back office for IPAs: local server, dev tokens, roster import, fax and email intake"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DataDirArg {
    /// Where the embedded store, the IPA policy and the dev signing key live.
    #[arg(long, env = "MSO_DATA_DIR", default_value = ".mso-data")]
    data_dir: PathBuf,
    /// The IPA policy file to use instead of DATA_DIR/policy.toml (which is created
    /// from the bundled demo policy on first use).
    #[arg(long, env = "MSO_POLICY_FILE")]
    policy: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every function on one local HTTP server with the embedded store.
    Serve {
        #[arg(long, env = "MSO_PORT", default_value_t = 3000)]
        port: u16,
        #[arg(long, env = "MSO_HOST", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        host: IpAddr,
        #[command(flatten)]
        data: DataDirArg,
        /// Seconds an API request body may take to arrive (tests shorten it).
        #[arg(long, env = "MSO_BODY_TIMEOUT_SECS", default_value_t = 30, hide = true)]
        body_timeout_secs: u64,
        /// Connections served at once (tests lower it).
        #[arg(long, env = "MSO_MAX_CONNECTIONS", default_value_t = 512, hide = true)]
        max_connections: usize,
    },
    /// Print a dev JWT that `mso serve` accepts (and nothing else does).
    Token {
        /// The provider organisation (e.g. sunrise-family-medicine).
        #[arg(long)]
        org: String,
        /// provider_user, site_admin, um_nurse, medical_director, claims_examiner,
        /// dispute_reviewer, intake_clerk or ops_admin. Repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// An NPI the user acts for. Repeat for several.
        #[arg(long = "npi")]
        npis: Vec<String>,
        /// The user's subject; defaults to one derived from org and role.
        #[arg(long)]
        sub: Option<String>,
        #[arg(long, default_value_t = 8 * 60)]
        ttl_minutes: u32,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Load a roster into the data directory (stop `mso serve` first).
    Import {
        #[command(subcommand)]
        kind: ImportKind,
    },
    /// Hand a fax (PDF, TIFF) or an email (.eml) to the running `mso serve`, as
    /// the fax gateway or SES drops it into the intake bucket; prints the item.
    Intake {
        file: PathBuf,
        /// The sending fax number (the fax gateway's caller ID).
        #[arg(long)]
        from: Option<String>,
        /// When the fax gateway received it (RFC 3339); default: when it lands.
        #[arg(long)]
        received_at: Option<String>,
        /// fax or email; default: email for .eml, else fax.
        #[arg(long, value_enum)]
        channel: Option<intake_drop::Channel>,
        /// The port `mso serve` listens on.
        #[arg(long, env = "MSO_PORT", default_value_t = 3000)]
        port: u16,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Print the OpenAPI document of the API.
    Openapi,
    /// Work with IPA policy files.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
}

#[derive(Subcommand)]
enum PolicyAction {
    /// Validate a policy file (e.g. infra/ipas/sunrise.toml): every problem is
    /// named by its key; exit status 1 when there is one.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum ImportKind {
    /// Members CSV: member_id,first_name,last_name,dob,sex,plan_id,line_of_business,coverage_start,coverage_end,pcp_npi
    Members {
        file: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Providers CSV: npi,name,org_id,specialty,network
    Providers {
        file: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
}

pub fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            port,
            host,
            data,
            body_timeout_secs,
            max_connections,
        } => {
            let limits = server::Limits {
                body_timeout: std::time::Duration::from_secs(body_timeout_secs.max(1)),
                max_connections,
                ..server::Limits::default()
            };
            mso_api::telemetry::init();
            let dir = DataDir::open(&data.data_dir, data.policy.as_deref())?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(server::serve(dir, (host, port).into(), limits))
        }
        Command::Token {
            org,
            roles,
            npis,
            sub,
            ttl_minutes,
            data,
        } => {
            let dir = DataDir::open(&data.data_dir, data.policy.as_deref())?;
            let request = dev_token::TokenRequest {
                org,
                roles,
                npis,
                subject: sub,
                ttl_minutes,
            };
            println!(
                "{}",
                dev_token::DevTokens::new(&dir.jwt_key()?)
                    .mint(&request, jiff::Timestamp::now())?
            );
            Ok(())
        }
        Command::Import { kind } => {
            let (kind, file, data) = match kind {
                ImportKind::Members { file, data } => (import::Kind::Members, file, data),
                ImportKind::Providers { file, data } => (import::Kind::Providers, file, data),
            };
            let dir = DataDir::open(&data.data_dir, data.policy.as_deref())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let summary = runtime.block_on(import::run(&dir, kind, &file))?;
            println!("{summary}");
            Ok(())
        }
        Command::Intake {
            file,
            from,
            received_at,
            channel,
            port,
            data,
        } => {
            let dir = DataDir::open(&data.data_dir, data.policy.as_deref())?;
            let drop = intake_drop::Drop {
                channel: channel.unwrap_or_else(|| intake_drop::Channel::of(&file)),
                file: &file,
                from,
                received_at,
                port,
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            println!("{}", runtime.block_on(intake_drop::run(&dir, &drop))?);
            Ok(())
        }
        Command::Openapi => {
            print!("{}", openapi::json());
            Ok(())
        }
        Command::Policy {
            action: PolicyAction::Check { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policy = mso_domain::policy::Policy::from_toml(&text, &file.display().to_string())?;
            println!(
                "{}: valid policy of {} ({}): {} plan(s), {} PA-required code range(s), {} criteria rule(s), {} holiday(s)",
                file.display(),
                policy.ipa.name,
                policy.ipa.id,
                policy.plans.len(),
                policy.prior_auth.pa_required_codes.len(),
                policy.prior_auth.criteria.len(),
                policy.holidays().len()
            );
            Ok(())
        }
    }
}
