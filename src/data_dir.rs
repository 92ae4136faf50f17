//! The local data directory: embedded store, IPA policy, dev signing key.
//!
//! ```text
//! .mso-data/
//!   policy.toml   the IPA policy (the bundled demo policy, written on first use)
//!   dev-jwt.key   HMAC key for dev tokens (`mso token` signs, `mso serve` verifies)
//!   mso.redb      records and queues (embedded store)
//!   objects/      documents
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mso_domain::policy::Policy;
use mso_store::embedded::Embedded;

const POLICY_FILE: &str = "policy.toml";
const JWT_KEY_FILE: &str = "dev-jwt.key";
const STORE_FILE: &str = "mso.redb";

pub struct DataDir {
    path: PathBuf,
    policy_path: PathBuf,
    policy: Policy,
}

impl DataDir {
    /// Opens (creating if needed) the data directory and loads the IPA policy from
    /// `policy_file`, or from `policy.toml` inside it. A bad policy stops here with
    /// the file and key named.
    pub fn open(path: &Path, policy_file: Option<&Path>) -> anyhow::Result<DataDir> {
        create_private_dir(path)?;
        let policy_path = match policy_file {
            Some(p) => p.to_path_buf(),
            None => {
                let p = path.join(POLICY_FILE);
                if !p.exists() {
                    let (_, text) = mso_api::policies::text(mso_api::policies::DEMO)
                        .context("the demo policy is bundled")?;
                    fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
                }
                p
            }
        };
        let text = fs::read_to_string(&policy_path)
            .with_context(|| format!("cannot read IPA policy {}", policy_path.display()))?;
        let policy = Policy::from_toml(&text, &policy_path.display().to_string())?;
        Ok(DataDir {
            path: path.to_path_buf(),
            policy_path,
            policy,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn policy_path(&self) -> &Path {
        &self.policy_path
    }

    /// True until the embedded store has been created (by `serve` or `import`).
    pub fn is_fresh(&self) -> bool {
        !self.path.join(STORE_FILE).exists()
    }

    /// Opens the embedded store. Only one process may hold it.
    pub fn open_store(&self, base_url: String) -> anyhow::Result<Embedded> {
        Embedded::open(&self.path, base_url).with_context(|| {
            format!("opening the embedded store in {} (is another `mso serve` or `mso import` running?)", self.path.display())
        })
    }

    /// The dev-token signing key, created on first use.
    pub fn jwt_key(&self) -> anyhow::Result<Vec<u8>> {
        let p = self.path.join(JWT_KEY_FILE);
        match fs::read(&p) {
            Ok(key) if key.len() >= 32 => Ok(key),
            Ok(_) => bail!(
                "{} is too short to be a signing key; delete it to make a new one",
                p.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| anyhow::anyhow!("no OS randomness for the signing key: {e}"))?;
                write_private(&p, &key)?;
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }
}

fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(path)
        .with_context(|| format!("creating data directory {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // PHI lives here: owner only.
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
