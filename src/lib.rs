//! `mso`: the whole back office on one machine.
//!
//! - `mso serve`: every function's routes in one local HTTP server, on the embedded
//!   store, with requests built exactly as API Gateway builds them.
//! - `mso token`: dev JWTs accepted by `serve` (signed with a key in the data dir).
//! - `mso import members|providers FILE`: load a plan roster or provider list.
//! - `mso openapi`: the OpenAPI document generated from the code.

pub mod cli;
pub mod data_dir;
pub mod demo;
pub mod dev_token;
pub mod import;
pub mod local_aws;
pub mod openapi;
pub mod routes;
pub mod server;
