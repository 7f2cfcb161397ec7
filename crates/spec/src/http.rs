//! How a service's operations meet HTTP, decided once here for generated
//! servers, `dev mock`, `dev verify` and lint:
//! - [`routes`]: the routes a router serves, and which operation answers each method;
//! - [`own_builtin_routes`]: the built-in routes a spec declares itself;
//! - [`validation_answer`], [`error_answer`]: how a 422 (or a 409) is written in the
//!   type an operation declares;
//! - [`sortable`]: what an operation's `sort` parameter may name.

use crate::ir::{
    Field, Method, Model, Operation, ParameterLocation, Primitive, Resource, ResponseCode, Service,
    TypeRef,
};
use crate::{Span, Spec};

/// One route: a path pattern and the operations answering it, one per method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// In axum's syntax: `{name}` parameters named as the first operation on the
    /// route names them, literal braces doubled.
    pub path: String,
    /// `(method, index)`: the index is the operation's position in
    /// [`Service::operations`].
    pub methods: Vec<(Method, usize)>,
}

/// The routes of `service`, in first-declared order.
///
/// Operations whose paths differ only in parameter names (`/users/:id` for GET,
/// `/users/:guid` for DELETE) share a route: handlers read path parameters by
/// position. A second operation with the method and shape of an earlier one
/// (the loader refuses one with the same path) is left out: unreachable.
pub fn routes(service: &Service) -> Vec<Route> {
    // (route, shape with parameters as `{}`)
    let mut out: Vec<(Route, String)> = Vec::new();
    for (index, (_, op)) in service.operations().enumerate() {
        let (path, shape) = route_path(&op.path);
        let at = match out.iter().position(|(_, s)| *s == shape) {
            Some(at) => at,
            None => {
                out.push((
                    Route {
                        path,
                        methods: Vec::new(),
                    },
                    shape,
                ));
                out.len() - 1
            }
        };
        let methods = &mut out[at].0.methods;
        if !methods.iter().any(|(m, _)| *m == op.method) {
            methods.push((op.method, index));
        }
    }
    out.into_iter().map(|(route, _)| route).collect()
}

/// The paths every service serves (the runtime's healthcheck, version and metrics).
pub const BUILTIN_PATHS: [&str; 3] = [
    "/_internal_/healthcheck",
    "/_internal_/version",
    "/_internal_/metrics",
];

/// The [`BUILTIN_PATHS`] `service` declares a `GET` for: its own operation
/// answers them, not the built-in one.
pub fn own_builtin_routes(service: &Service) -> Vec<&'static str> {
    BUILTIN_PATHS
        .into_iter()
        .filter(|path| {
            service
                .operations()
                .any(|(_, op)| op.method == Method::Get && op.path == *path)
        })
        .collect()
}

/// The route of an apibuilder path (`/users/:id`) in axum syntax, and its shape.
fn route_path(path: &str) -> (String, String) {
    let mut route = String::new();
    let mut shape = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        route.push('/');
        shape.push('/');
        match seg.strip_prefix(':') {
            Some(name) => {
                route.push('{');
                route.push_str(name);
                route.push('}');
                shape.push_str("{}");
            }
            None => {
                let escaped = seg.replace('{', "{{").replace('}', "}}");
                route.push_str(&escaped);
                shape.push_str(&escaped);
            }
        }
    }
    if route.is_empty() {
        route.push('/');
        shape.push('/');
    }
    (route, shape)
}

/// How an error answer (a 422's violations, a 409's conflict) is written in the
/// type an operation declares for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorAnswer {
    /// `{"code": ..., "message": ..., "violations": [...]}`: Blueprint's own.
    Standard,
    /// One object of these fields, for all the violations.
    Object(AnswerFields),
    /// A list: one object of these fields per violation (Flow's `[error]`).
    List(AnswerFields),
    /// `[string]`: one `"<path>: <message>"` per violation.
    Texts,
    /// `unit`: no body.
    Empty,
}

/// The fields of a declared error model that carry the answer; each one present
/// in the model, required or not, is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerFields {
    /// `code`: the answer's own (`validation_failed`, `conflict`) for a string,
    /// or the one value the field's enum allows.
    pub code: Option<Code>,
    /// `message`: a summary (objects), or `"<path>: <message>"` (list entries).
    pub message: bool,
    /// `messages: [string]`: one `"<path>: <message>"` per violation.
    pub messages: bool,
    /// `violations: [{path, message}]` (either or both fields).
    pub violations: Option<ViolationFields>,
}

/// What a declared `code` field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// A string: the answer's own code.
    Own,
    /// An enum: this value (`validation_failed` when it lists it, else the
    /// field's default, else its only value).
    Fixed(String),
}

/// The fields of a declared violation model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViolationFields {
    pub path: bool,
    pub message: bool,
}

/// Why an operation's declared 422 type cannot carry the violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmappable {
    /// The declared 422 response.
    pub span: Span,
    pub message: String,
}

/// The code of a 422 answer.
pub const VALIDATION_FAILED: &str = "validation_failed";

/// How `op` answers a request with invalid input (see [`ErrorAnswer`]):
/// [`error_answer`] for its 422, Blueprint's own shape when it declares none.
pub fn validation_answer(spec: &Spec, op: &Operation) -> Result<ErrorAnswer, Unmappable> {
    error_answer(spec, op, 422).unwrap_or(Ok(ErrorAnswer::Standard))
}

/// How `op` writes an error answer with status `status` in the type it declares
/// for it; `None` when it declares none.
///
/// Mappable: `unit`, `[string]`, and a model (or a list of a model) whose
/// fields are drawn from `code` (a string, or an enum: see [`Code`]), `message`
/// (string), `messages` (`[string]`) and `violations` (a list of a model drawn
/// from `path` and `message`, strings); other fields must be optional. Anything
/// else is [`Unmappable`]: lint reports it at the declared type, and servers
/// answer in the [`ErrorAnswer::Standard`] shape.
pub fn error_answer(
    spec: &Spec,
    op: &Operation,
    status: u16,
) -> Option<Result<ErrorAnswer, Unmappable>> {
    let response = op.response(ResponseCode::Status(status))?;
    let unmappable = |why: String| Unmappable {
        span: response.span,
        message: why,
    };
    let shown = || response.type_.display_in(&spec.service.namespace);
    Some(match &response.type_ {
        TypeRef::Primitive(Primitive::Unit) => Ok(ErrorAnswer::Empty),
        TypeRef::List(item) if **item == TypeRef::Primitive(Primitive::String) => {
            Ok(ErrorAnswer::Texts)
        }
        TypeRef::List(item) => match item.named().and_then(|n| spec.resolve_model(n)) {
            Some(model) => answer_fields(spec, model)
                .map(ErrorAnswer::List)
                .map_err(|why| unmappable(format!("`{}`: {why}", shown()))),
            None => Err(unmappable(format!(
                "`{}` is neither a list of a model nor `[string]`",
                shown()
            ))),
        },
        TypeRef::Named(n) => match spec.resolve_model(n) {
            Some(model) => answer_fields(spec, model)
                .map(|fields| {
                    if is_standard(&fields) {
                        ErrorAnswer::Standard
                    } else {
                        ErrorAnswer::Object(fields)
                    }
                })
                .map_err(|why| unmappable(format!("`{}`: {why}", shown()))),
            None => Err(unmappable(format!("`{}` is not a model", shown()))),
        },
        _ => Err(unmappable(format!(
            "`{}` is not a model, a list of a model, `[string]` or `unit`",
            shown()
        ))),
    })
}

/// Blueprint's own error body is one of the mappable shapes.
fn is_standard(fields: &AnswerFields) -> bool {
    fields.code == Some(Code::Own)
        && fields.message
        && !fields.messages
        && fields.violations
            == Some(ViolationFields {
                path: true,
                message: true,
            })
}

fn answer_fields(spec: &Spec, model: &Model) -> Result<AnswerFields, String> {
    let mut out = AnswerFields {
        code: None,
        message: false,
        messages: false,
        violations: None,
    };
    let string = TypeRef::Primitive(Primitive::String);
    for field in &model.fields {
        match field.name.as_str() {
            "code" => out.code = Some(code_value(spec, field)?),
            "message" if field.type_ == string => out.message = true,
            "messages" if field.type_ == TypeRef::List(Box::new(string.clone())) => {
                out.messages = true;
            }
            "violations" => out.violations = Some(violation_fields(spec, field)?),
            "message" | "messages" => {
                return Err(format!(
                    "field `{}` has type `{}`, expected `{}`",
                    field.name,
                    field.type_.display_in(&spec.service.namespace),
                    if field.name == "message" {
                        "string"
                    } else {
                        "[string]"
                    }
                ));
            }
            _ if field.must_be_sent() => {
                return Err(format!(
                    "required field `{}` is not one of code, message, messages, violations",
                    field.name
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn code_value(spec: &Spec, field: &Field) -> Result<Code, String> {
    match &field.type_ {
        TypeRef::Primitive(Primitive::String) => Ok(Code::Own),
        TypeRef::Named(n) => {
            let e = spec
                .resolve_enum(n)
                .ok_or_else(|| "field `code` is neither a string nor an enum".to_owned())?;
            let values: Vec<&str> = e.values.iter().map(|v| v.wire()).collect();
            let default = field.default.as_ref().and_then(|d| d.as_str());
            if values.contains(&VALIDATION_FAILED) {
                Ok(Code::Fixed(VALIDATION_FAILED.to_owned()))
            } else if let Some(d) = default.filter(|d| values.contains(d)) {
                Ok(Code::Fixed(d.to_owned()))
            } else if let [only] = values.as_slice() {
                Ok(Code::Fixed((*only).to_owned()))
            } else {
                Err(format!(
                    "enum `{}` of field `code` lists neither `{VALIDATION_FAILED}` nor one value, and the field has no default",
                    e.name
                ))
            }
        }
        other => Err(format!(
            "field `code` has type `{}`, expected a string or an enum",
            other.display_in(&spec.service.namespace)
        )),
    }
}

fn violation_fields(spec: &Spec, field: &Field) -> Result<ViolationFields, String> {
    let model = match &field.type_ {
        TypeRef::List(item) => item.named().and_then(|n| spec.resolve_model(n)),
        _ => None,
    }
    .ok_or_else(|| "field `violations` is not a list of a model".to_owned())?;
    let mut out = ViolationFields {
        path: false,
        message: false,
    };
    for f in &model.fields {
        let string = f.type_ == TypeRef::Primitive(Primitive::String);
        match f.name.as_str() {
            "path" if string => out.path = true,
            "message" if string => out.message = true,
            _ if f.must_be_sent() => {
                return Err(format!(
                    "required field `{}` of violation model `{}` is not a string `path` or `message`",
                    f.name, model.name
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The name of the query parameter a list operation sorts by.
pub const SORT_PARAMETER: &str = "sort";

/// What an operation's `sort` query parameter may name, when the operation lists
/// rows of a table: the resource is a local model with `db` and `sort` is a
/// `string` query parameter. The names are the generated DAO's sortable columns
/// ([`Model::sortable`]); `-` in front sorts descending, `,` separates keys.
pub fn sortable<'s>(spec: &'s Spec, resource: &Resource, op: &Operation) -> Option<Vec<&'s str>> {
    let sort = op.parameters.iter().find(|p| p.name == SORT_PARAMETER)?;
    if sort.location != ParameterLocation::Query
        || sort.type_ != TypeRef::Primitive(Primitive::String)
    {
        return None;
    }
    let n = resource.type_.named()?;
    if n.namespace != spec.service.namespace {
        return None;
    }
    spec.service.model(&n.name)?.sortable()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_group_by_shape() {
        let spec = crate::load_str(
            "t.json",
            r#"{"name": "t", "models": {"user": {"fields": [{"name": "id", "type": "string"}]}},
                "resources": {"user": {"operations": [
                  {"method": "GET", "path": "/:id"},
                  {"method": "DELETE", "path": "/:guid"},
                  {"method": "GET", "path": "/{x}"}
                ]}}}"#,
            &Default::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            routes(&spec.service),
            [
                Route {
                    path: "/users/{id}".into(),
                    methods: vec![(Method::Get, 0), (Method::Delete, 1)],
                },
                Route {
                    path: "/users/{{x}}".into(),
                    methods: vec![(Method::Get, 2)],
                },
            ]
        );
    }
}
