use std::process::ExitCode;

fn main() -> ExitCode {
    mso::cli::main()
}
