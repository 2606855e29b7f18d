//! The application's routes, kept as a table beside the router they build, so
//! that a test can walk every route (every path with an id, every method) and
//! check that access is refused where it must be.

use crate::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

/// One method on one path pattern, e.g. `POST /plans/{id}/renew`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

/// Handlers by method for one path, as axum's `get(a).post(b)`.
pub struct Methods {
    methods: Vec<Method>,
    router: MethodRouter<AppState>,
}

/// A GET handler (HEAD is answered too).
pub fn get<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
    Methods {
        methods: vec![Method::GET],
        router: routing::get(handler),
    }
}

/// A POST handler.
pub fn post<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
    Methods {
        methods: vec![Method::POST],
        router: routing::post(handler),
    }
}

impl Methods {
    pub fn get<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Methods {
        self.methods.push(Method::GET);
        self.router = self.router.get(handler);
        self
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Methods {
        self.methods.push(Method::POST);
        self.router = self.router.post(handler);
        self
    }
}

/// A router and the table of what it serves; each feature's `routes()` makes one.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    pub fn route(mut self, path: &'static str, methods: Methods) -> Routes {
        self.table.extend(methods.methods.into_iter().map(|method| Route { method, path }));
        self.router = self.router.route(path, methods.router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.table.extend(other.table);
        self.router = self.router.merge(other.router);
        self
    }

    pub fn table(&self) -> &[Route] {
        &self.table
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
