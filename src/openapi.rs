//! The OpenAPI document, generated from the functions' handlers and types. The copy
//! in docs/openapi.json is kept equal by a test.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};

pub fn document() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("MSO back office API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Eligibility, prior authorisation, documents, fax and email intake, claims and disputes for one IPA. \
                     Every /v1 route needs `Authorization: Bearer <JWT>`; errors are application/problem+json (RFC 9457).",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme("bearer", SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()))
                .build(),
        ))
        .build();
    for (_, part) in parts() {
        doc.merge(part);
    }
    doc
}

/// Each function's part of the document, by function name; each job adds its own.
pub fn parts() -> Vec<(&'static str, OpenApi)> {
    vec![
        ("eligibility", eligibility::openapi()),
        ("prior-auth", prior_auth::openapi()),
        ("documents", documents::openapi()),
        ("claims", claims::openapi()),
        ("intake", intake::openapi()),
        ("disputes", disputes::openapi()),
    ]
}

/// The document as pretty JSON, with a trailing newline (as checked in).
pub fn json() -> String {
    let mut s = document().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
