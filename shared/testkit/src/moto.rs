//! The moto AWS emulator, one process per test: each test starts its own
//! `moto_server` on a free port (about half a second), so tests are isolated
//! and run in parallel; the [`Moto`] guard kills it when the test ends, failed
//! assertions included. Without `moto_server` on PATH the tests that need it
//! fail, unless `MSO_SKIP_MOTO=1`, which skips them loudly.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto, or returns `None` when it is missing and `MSO_SKIP_MOTO=1`.
    pub fn start() -> Option<Moto> {
        for _ in 0..3 {
            // Bind port 0 for a free port, then release it for moto; another
            // process may take it in between, so a failed start is retried.
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match child {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if std::env::var("MSO_SKIP_MOTO").as_deref() == Ok("1") {
                        // Straight to stderr: the test harness would swallow `eprintln!`.
                        use std::io::Write;
                        let _ = writeln!(
                            std::io::stderr(),
                            "\n!!!!!!!! SKIPPED: moto_server is not on PATH and MSO_SKIP_MOTO=1; \
                             the AWS adapters were NOT tested !!!!!!!!\n"
                        );
                        return None;
                    }
                    panic!(
                        "moto_server is not on PATH, so the AWS adapters cannot be tested. Run the tests \
                         the way the README says (tests/run), or `pip install 'moto[server]==5.2.1'`; \
                         set MSO_SKIP_MOTO=1 to skip these tests."
                    );
                }
                Err(e) => panic!("cannot start moto_server: {e}"),
            };
            let mut moto = Moto {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            if moto.wait_until_listening(port) {
                return Some(moto);
            }
        }
        panic!("moto_server did not start (3 attempts)");
    }

    fn wait_until_listening(&mut self, port: u16) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false; // exited, e.g. the port was taken
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}
