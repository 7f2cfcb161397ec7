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
//! is applied once.

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
    for model in &mut raw.models {
        let names = expand_names(
            &model.templates,
            &model_templates,
            |t| &t.name,
            |t| &t.templates,
            diags,
        );
        for name in names {
            if let Some(tpl) = model_templates.iter().find(|t| t.name.value == name.value) {
                merge_model(model, tpl);
            }
        }
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
    let resource_templates = raw.template_resources.clone();
    for resource in &mut raw.resources {
        let names = expand_names(
            &resource.templates,
            &resource_templates,
            |t| &t.type_,
            |t| &t.templates,
            diags,
        );
        for name in names {
            if let Some(tpl) = resource_templates
                .iter()
                .find(|t| t.type_.value == name.value)
            {
                merge_resource(resource, tpl);
            }
        }
        resource.templates.clear();
    }
}

/// The templates `uses` names, with the templates those use, depth first and
/// each once; unknown names are reported where they are used.
fn expand_names<T>(
    uses: &[Str],
    templates: &[T],
    name_of: impl Fn(&T) -> &Str,
    uses_of: impl Fn(&T) -> &[Str],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Str> {
    let mut out: Vec<Str> = Vec::new();
    let mut stack: Vec<Str> = uses.iter().rev().cloned().collect();
    while let Some(name) = stack.pop() {
        if out.iter().any(|n| n.value == name.value) {
            continue;
        }
        match templates.iter().find(|t| name_of(t).value == name.value) {
            Some(t) => {
                stack.extend(uses_of(t).iter().rev().cloned());
                out.push(name);
            }
            None => {
                let names: Vec<&str> = templates
                    .iter()
                    .map(|t| name_of(t).value.as_str())
                    .collect();
                diags.push(unknown_template(&name, &names));
            }
        }
    }
    out
}

fn unknown_template(t: &Str, names: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        "spec/unknown-template",
        format!("unknown template `{}`", t.value),
    )
    .at(t.span);
    match crate::suggest::closest(&t.value, names.iter().copied()) {
        Some(s) => d.hint(format!("did you mean `{s}`?")),
        None if names.is_empty() => d.hint("declare it under the top-level `templates`"),
        None => d.hint(format!("templates declared: {}", names.join(", "))),
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
