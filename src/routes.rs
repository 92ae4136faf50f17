//! Which function serves which route: the same table API Gateway has
//! (infra/template.yaml; a test keeps the two equal).

use std::collections::HashMap;

/// One Lambda function, by its kebab-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Eligibility,
    PriorAuth,
    Documents,
    Claims,
    Intake,
    Disputes,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::Eligibility,
        Function::PriorAuth,
        Function::Documents,
        Function::Claims,
        Function::Intake,
        Function::Disputes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Eligibility => "eligibility",
            Function::PriorAuth => "prior-auth",
            Function::Documents => "documents",
            Function::Claims => "claims",
            Function::Intake => "intake",
            Function::Disputes => "disputes",
        }
    }

    fn routes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Function::Eligibility => eligibility::ROUTES,
            Function::PriorAuth => prior_auth::ROUTES,
            Function::Documents => documents::ROUTES,
            Function::Claims => claims::ROUTES,
            Function::Intake => intake::ROUTES,
            Function::Disputes => disputes::ROUTES,
        }
    }
}

/// A public API route: method, API Gateway path template, and the function behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
}

impl ApiRoute {
    /// The API Gateway route key handlers dispatch on (`GET /v1/eligibility`).
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

pub fn api_routes() -> Vec<ApiRoute> {
    Function::ALL
        .into_iter()
        .flat_map(|f| {
            f.routes().iter().map(move |&(method, path)| ApiRoute {
                method,
                path,
                function: f,
            })
        })
        .collect()
}

/// What a request path and method matched.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<'a> {
    Route {
        route: &'a ApiRoute,
        path_parameters: HashMap<String, String>,
    },
    /// The path exists, but not for this method; these methods are allowed.
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

/// Matches requests to routes with API Gateway's `{param}` path templates.
pub struct Router {
    paths: matchit::Router<Vec<ApiRoute>>,
}

impl Router {
    pub fn new() -> Router {
        let mut by_path: HashMap<&'static str, Vec<ApiRoute>> = HashMap::new();
        for route in api_routes() {
            by_path.entry(route.path).or_default().push(route);
        }
        let mut paths = matchit::Router::new();
        for (path, routes) in by_path {
            // The templates are compile-time constants checked by the tests; a clash
            // is a programming error caught the first time anything runs.
            paths
                .insert(path, routes)
                .unwrap_or_else(|e| panic!("route {path} cannot be registered: {e}"));
        }
        Router { paths }
    }

    pub fn find(&self, method: &str, path: &str) -> Match<'_> {
        let Ok(found) = self.paths.at(path) else {
            return Match::NotFound;
        };
        match found.value.iter().find(|r| r.method == method) {
            Some(route) => Match::Route {
                route,
                path_parameters: found
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
            None => Match::MethodNotAllowed(found.value.iter().map(|r| r.method).collect()),
        }
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_method_and_path() {
        let router = Router::new();
        match router.find("GET", "/v1/eligibility") {
            Match::Route { route, .. } => assert_eq!(route.function, Function::Eligibility),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            router.find("POST", "/v1/eligibility"),
            Match::MethodNotAllowed(vec!["GET"])
        );
        assert_eq!(router.find("GET", "/v1/nope"), Match::NotFound);
    }

    #[test]
    fn the_dispute_queue_is_not_taken_for_a_dispute_id() {
        let router = Router::new();
        match router.find("GET", "/v1/disputes/queue") {
            Match::Route { route, .. } => assert_eq!(route.path, "/v1/disputes/queue"),
            other => panic!("{other:?}"),
        }
        match router.find("GET", "/v1/disputes/DSP-7K3Q9M") {
            Match::Route {
                route,
                path_parameters,
            } => {
                assert_eq!(route.path, "/v1/disputes/{id}");
                assert_eq!(path_parameters["id"], "DSP-7K3Q9M");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_function_route_is_a_v1_route_key() {
        for r in api_routes() {
            assert!(r.path.starts_with("/v1/"), "{}", r.key());
            assert!(
                ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&r.method),
                "{}",
                r.key()
            );
        }
    }
}
