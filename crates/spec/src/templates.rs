//! apibuilder templates, applied to the raw spec before anything is resolved.
//!
//! As apibuilder's `ModelMerge`/`ResourceMerge`:
//! - a model with `"templates": [{"name": "t"}]` gets the template's fields first
//!   (a field the model declares too keeps the model's name, type and `required`,
//!   and takes what it leaves out — description, default, example, bounds — from
//!   the template), then its own other fields; attributes and interfaces are
//!   merged, and the model implements an interface named after each template;
//! - every model template not declared as an interface becomes one;
//! - a resource with templates gets the template's `path` when it has none and the
//!   template's operations first (merged by method and path with its own: own
//!   values win, parameters merged by name, responses by code), then its own; in
//!   every operation the template's name used as a type is renamed to the
//!   resource's type (`crud` -> `user`, `[crud]` -> `[user]`).
//!
//! Templates may use templates; a template reached twice (a cycle, or a diamond)
//! is applied once. Template names compare trimmed and ignoring case, as
//! apibuilder's. A name no template has is one error at the use, naming who uses it
//! and listing the templates declared.

use crate::diag::Diagnostic;
use crate::raw::{
    RawAttribute, RawField, RawHeader, RawModel, RawOperation, RawParameter, RawResource,
    RawResponse, RawService, Str,
};

/// Expand every template use in `raw`; unknown templates are reported.
pub(crate) fn apply(raw: &mut RawService, diags: &mut Vec<Diagnostic>) {
    if raw.template_models.is_empty()
        && raw.template_resources.is_empty()
        && raw.models.iter().all(|m| m.templates.is_empty())
        && raw.resources.iter().all(|r| r.templates.is_empty())
    {
        return;
    }
    let model_templates = raw.template_models.clone();
    let resource_templates = raw.template_resources.clone();
    let model_names: Vec<&str> = model_templates
        .iter()
        .map(|t| t.name.value.as_str())
        .collect();
    let resource_names: Vec<&str> = resource_templates
        .iter()
        .map(|t| t.type_.value.as_str())
        .collect();
    for model in &mut raw.models {
        let used = Uses {
            owner: format!("model `{}`", model.name.value),
            kind: "model",
            declared: &model_names,
            other_kind: ("resource", &resource_names),
        };
        let (names, unknown) = used.expand(
            &model.templates,
            &model_templates,
            |t| &t.name,
            |t| &t.templates,
            diags,
        );
        for tpl in names {
            merge_model(model, tpl);
        }
        // The fields the unknown templates would have brought are not missing twice.
        model.declared_fields += unknown;
        model.templates.clear();
    }
    for tpl in &model_templates {
        if !raw
            .interfaces
            .iter()
            .any(|i| i.name.value == tpl.name.value)
        {
            let mut interface = tpl.clone();
            interface.templates.clear();
            interface.interfaces.clear();
            raw.interfaces.push(interface);
        }
    }
    for resource in &mut raw.resources {
        let used = Uses {
            owner: format!("resource `{}`", resource.type_.value),
            kind: "resource",
            declared: &resource_names,
            other_kind: ("model", &model_names),
        };
        let (names, unknown) = used.expand(
            &resource.templates,
            &resource_templates,
            |t| &t.type_,
            |t| &t.templates,
            diags,
        );
        for tpl in names {
            merge_resource(resource, tpl);
        }
        resource.declared_operations += unknown;
        resource.templates.clear();
    }
}

/// apibuilder's template names: compared trimmed and ignoring case.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The templates one model or resource uses, for expanding them and for saying
/// which are missing.
struct Uses<'n> {
    /// `model `user``, for messages.
    owner: String,
    /// `model` or `resource`: the kind of template it can use.
    kind: &'static str,
    declared: &'n [&'n str],
    /// The templates of the other kind, for "`x` is a resource template".
    other_kind: (&'static str, &'n [&'n str]),
}

impl Uses<'_> {
    /// The templates `uses` names, with the templates those use, depth first and
    /// each once, and how many names are unknown (each reported where used).
    fn expand<'t, T>(
        &self,
        uses: &[Str],
        templates: &'t [T],
        name_of: impl Fn(&T) -> &Str,
        uses_of: impl Fn(&T) -> &[Str],
        diags: &mut Vec<Diagnostic>,
    ) -> (Vec<&'t T>, usize) {
        let mut out: Vec<&'t T> = Vec::new();
        let mut unknown = 0;
        let mut stack: Vec<Str> = uses.iter().rev().cloned().collect();
        while let Some(name) = stack.pop() {
            if out
                .iter()
                .any(|t| same_name(&name_of(t).value, &name.value))
            {
                continue;
            }
            match templates
                .iter()
                .find(|t| same_name(&name_of(t).value, &name.value))
            {
                Some(t) => {
                    stack.extend(uses_of(t).iter().rev().cloned());
                    out.push(t);
                }
                None => {
                    unknown += 1;
                    diags.push(self.unknown(&name));
                }
            }
        }
        (out, unknown)
    }

    /// One located error: the missing template, who uses it, what is declared.
    fn unknown(&self, t: &Str) -> Diagnostic {
        let name = t.value.trim();
        let kind = self.kind;
        let declared = if self.declared.is_empty() {
            format!("no {kind} templates are declared (`templates.{kind}s`)")
        } else {
            format!("declared {kind} templates: {}", self.declared.join(", "))
        };
        let (other, other_names) = self.other_kind;
        let hint = if other_names.iter().any(|n| same_name(n, name)) {
            format!(
                "`{name}` is a {other} template, and a {kind} uses {kind} templates; {declared}"
            )
        } else {
            match crate::suggest::closest(name, self.declared.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? {declared}"),
                None => declared,
            }
        };
        Diagnostic::error(
            "spec/unknown-template",
            format!(
                "cannot find template named `{name}`, used by {}",
                self.owner
            ),
        )
        .at(t.span)
        .hint(hint)
    }
}

/// apibuilder's `ArrayMerge`: the template's items first (merged with the
/// original's item of the same key), then the original's other items.
fn array_merge<T: Clone>(
    original: &[T],
    template: &[T],
    key: impl Fn(&T) -> String,
    merge: impl Fn(&T, &T) -> T,
) -> Vec<T> {
    let mut out: Vec<T> = template
        .iter()
        .map(|t| match original.iter().find(|o| key(o) == key(t)) {
            Some(o) => merge(o, t),
            None => t.clone(),
        })
        .collect();
    out.extend(
        original
            .iter()
            .filter(|o| !template.iter().any(|t| key(t) == key(o)))
            .cloned(),
    );
    out
}

/// The original's attributes, then the template's with other names.
fn merge_attributes(original: &[RawAttribute], template: &[RawAttribute]) -> Vec<RawAttribute> {
    let mut out = original.to_vec();
    out.extend(
        template
            .iter()
            .filter(|t| !original.iter().any(|o| o.name.value == t.name.value))
            .cloned(),
    );
    out
}

fn union_names(parts: &[&[Str]]) -> Vec<Str> {
    let mut out: Vec<Str> = Vec::new();
    for part in parts {
        for s in *part {
            if !out.iter().any(|o| o.value == s.value) {
                out.push(s.clone());
            }
        }
    }
    out
}

fn merge_model(model: &mut RawModel, tpl: &RawModel) {
    model.description = model.description.take().or_else(|| tpl.description.clone());
    model.deprecation = model.deprecation.take().or_else(|| tpl.deprecation.clone());
    model.fields = array_merge(
        &model.fields,
        &tpl.fields,
        |f| f.name.value.clone(),
        merge_field,
    );
    model.declared_fields = model.declared_fields.max(model.fields.len());
    model.attributes = merge_attributes(&model.attributes, &tpl.attributes);
    model.interfaces = union_names(&[
        &model.interfaces,
        &tpl.interfaces,
        std::slice::from_ref(&tpl.name),
    ]);
}

fn merge_field(original: &RawField, tpl: &RawField) -> RawField {
    RawField {
        name: original.name.clone(),
        type_: original.type_.clone(),
        required: original.required.or(tpl.required),
        default: original.default.clone().or_else(|| tpl.default.clone()),
        example: original.example.clone().or_else(|| tpl.example.clone()),
        minimum: original.minimum.clone().or_else(|| tpl.minimum.clone()),
        maximum: original.maximum.clone().or_else(|| tpl.maximum.clone()),
        description: original
            .description
            .clone()
            .or_else(|| tpl.description.clone()),
        deprecation: original
            .deprecation
            .clone()
            .or_else(|| tpl.deprecation.clone()),
        annotations: union_names(&[&original.annotations, &tpl.annotations]),
        attributes: merge_attributes(&original.attributes, &tpl.attributes),
        span: original.span,
    }
}

fn merge_resource(resource: &mut RawResource, tpl: &RawResource) {
    resource.path = resource.path.take().or_else(|| tpl.path.clone());
    resource.description = resource
        .description
        .take()
        .or_else(|| tpl.description.clone());
    resource.deprecation = resource
        .deprecation
        .take()
        .or_else(|| tpl.deprecation.clone());
    let key = |o: &RawOperation| {
        format!(
            "{}:{}",
            o.method.value.trim().to_ascii_lowercase(),
            o.path
                .as_ref()
                .map_or("", |p| p.value.trim())
                .to_ascii_lowercase()
        )
    };
    let mut operations = array_merge(&resource.operations, &tpl.operations, key, merge_operation);
    for op in &mut operations {
        rename_types(op, &tpl.type_.value, &resource.type_.value);
    }
    resource.operations = operations;
    resource.declared_operations = resource.declared_operations.max(resource.operations.len());
    resource.attributes = merge_attributes(&resource.attributes, &tpl.attributes);
}

fn merge_operation(original: &RawOperation, tpl: &RawOperation) -> RawOperation {
    RawOperation {
        method: original.method.clone(),
        path: original.path.clone(),
        description: original
            .description
            .clone()
            .or_else(|| tpl.description.clone()),
        deprecation: original
            .deprecation
            .clone()
            .or_else(|| tpl.deprecation.clone()),
        body: original.body.clone().or_else(|| tpl.body.clone()),
        parameters: array_merge(
            &original.parameters,
            &tpl.parameters,
            |p| p.name.value.clone(),
            merge_parameter,
        ),
        responses: merge_responses(&original.responses, &tpl.responses),
        attributes: merge_attributes(&original.attributes, &tpl.attributes),
        span: original.span,
    }
}

fn merge_parameter(original: &RawParameter, tpl: &RawParameter) -> RawParameter {
    RawParameter {
        name: original.name.clone(),
        type_: original.type_.clone(),
        location: original.location.clone(),
        required: original.required,
        default: original.default.clone().or_else(|| tpl.default.clone()),
        minimum: original.minimum.clone().or_else(|| tpl.minimum.clone()),
        maximum: original.maximum.clone().or_else(|| tpl.maximum.clone()),
        example: original.example.clone().or_else(|| tpl.example.clone()),
        description: original
            .description
            .clone()
            .or_else(|| tpl.description.clone()),
        deprecation: original
            .deprecation
            .clone()
            .or_else(|| tpl.deprecation.clone()),
        attributes: merge_attributes(&original.attributes, &tpl.attributes),
        span: original.span,
    }
}

/// Responses by code: the original's (headers and attributes merged with the
/// template's), then the template's other codes.
fn merge_responses(original: &[RawResponse], template: &[RawResponse]) -> Vec<RawResponse> {
    let code = |r: &RawResponse| r.code.value.trim().to_string();
    let mut out: Vec<RawResponse> = original
        .iter()
        .map(|o| match template.iter().find(|t| code(t) == code(o)) {
            None => o.clone(),
            Some(t) => RawResponse {
                headers: merge_headers(&o.headers, &t.headers),
                description: o.description.clone().or_else(|| t.description.clone()),
                deprecation: o.deprecation.clone().or_else(|| t.deprecation.clone()),
                attributes: merge_attributes(&o.attributes, &t.attributes),
                ..o.clone()
            },
        })
        .collect();
    out.extend(
        template
            .iter()
            .filter(|t| !original.iter().any(|o| code(o) == code(t)))
            .cloned(),
    );
    out
}

fn merge_headers(original: &[RawHeader], template: &[RawHeader]) -> Vec<RawHeader> {
    let mut out = original.to_vec();
    out.extend(
        template
            .iter()
            .filter(|t| {
                !original
                    .iter()
                    .any(|o| o.name.value.eq_ignore_ascii_case(&t.name.value))
            })
            .cloned(),
    );
    out
}

/// Rename the template's name, used as a type, to the resource's type.
fn rename_types(op: &mut RawOperation, from: &str, to: &str) {
    let rename = |t: &mut Str| {
        if let Some(renamed) = rename_type(&t.value, from, to) {
            t.value = renamed;
        }
    };
    if let Some(body) = &mut op.body {
        rename(&mut body.type_);
    }
    for p in &mut op.parameters {
        rename(&mut p.type_);
    }
    for r in &mut op.responses {
        rename(&mut r.type_);
    }
}

/// `from` -> `to` inside `[..]`/`map[..]` wrappers; `None` when `from` is not used.
fn rename_type(t: &str, from: &str, to: &str) -> Option<String> {
    let trimmed = t.trim();
    if trimmed == from {
        return Some(to.to_string());
    }
    if let Some(inner) = trimmed
        .strip_prefix("map[")
        .and_then(|s| s.strip_suffix(']'))
    {
        return rename_type(inner, from, to).map(|r| format!("map[{r}]"));
    }
    if let Some(inner) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return rename_type(inner, from, to).map(|r| format!("[{r}]"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_through_wrappers_only_whole_names() {
        assert_eq!(rename_type("crud", "crud", "user"), Some("user".into()));
        assert_eq!(rename_type("[crud]", "crud", "user"), Some("[user]".into()));
        assert_eq!(
            rename_type("map[[crud]]", "crud", "user"),
            Some("map[[user]]".into())
        );
        assert_eq!(rename_type("crud_form", "crud", "user"), None);
        assert_eq!(rename_type("string", "crud", "user"), None);
    }

    #[test]
    fn array_merge_puts_template_items_first() {
        let merged = array_merge(
            &[("a", 1), ("b", 1)],
            &[("b", 2), ("c", 2)],
            |x| x.0.to_string(),
            |o, _| *o,
        );
        assert_eq!(merged, vec![("b", 1), ("c", 2), ("a", 1)]);
    }
}
