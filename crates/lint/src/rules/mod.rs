//! The rule registry: every rule Blueprint knows, in the order they are listed.
//!
//! Adding a rule: write its check in the module of its topic, add one entry here,
//! and add `tests/rules/<id>/{pass,fail}.json` (the registry test enforces it).
//!
//! What the loader already rejects is not linted again: min > max, defaults out of
//! range, duplicate operations, unknown fields in `db` keys and indexes, empty
//! primary keys, partition keys missing from events and malformed `linter`
//! attributes are all `spec/*` errors before any rule runs.

mod collections;
mod db;
mod docs;
mod events;
mod linter;
mod naming;
mod paths;
mod responses;
pub(crate) mod support;
mod types;
mod unions;

use blueprint_spec::Severity::{Error, Warning};

use crate::rule::Category::{Db, Events, Minimal, Standard, Strict};
use crate::rule::Rule;

/// Every rule, in listing order.
pub fn all() -> &'static [Rule] {
    RULES
}

/// The rule with exactly this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

const STANDARD_RESPONSE: &[&str] = &["standard_response"];

static RULES: &[Rule] = &[
    // minimal ---------------------------------------------------------------
    Rule {
        id: "path-lowercase",
        category: Minimal,
        severity: Error,
        rationale: "URLs are case-sensitive; lower-case paths are the only ones nobody mistypes.",
        aliases: &["lower_case_paths"],
        check: paths::path_lowercase,
    },
    Rule {
        id: "path-no-trailing-slash",
        category: Minimal,
        severity: Error,
        rationale: "`/users/` and `/users` are different URLs to many routers and caches.",
        aliases: &["paths_do_not_have_trailing_slash"],
        check: paths::path_no_trailing_slash,
    },
    Rule {
        id: "bounds-applicable",
        category: Minimal,
        severity: Error,
        rationale: "`minimum`/`maximum` only mean something for numbers, strings and lists.",
        aliases: &["minimum_maximum"],
        check: types::bounds_applicable,
    },
    Rule {
        id: "bounds-length-non-negative",
        category: Minimal,
        severity: Error,
        rationale: "Bounds of strings and lists are lengths and sizes, which are never negative.",
        aliases: &["minimum_maximum"],
        check: types::bounds_length_non_negative,
    },
    Rule {
        id: "linter-ignore-known",
        category: Minimal,
        severity: Warning,
        rationale: "A `linter` ignore that names no rule suppresses nothing, usually because of a typo.",
        aliases: &[],
        check: linter::linter_ignore_known,
    },
    Rule {
        id: "validation-answer-mappable",
        category: Minimal,
        severity: Error,
        rationale: "Servers answer invalid input with the 422 type the operation declares; a type they cannot write the violations in leaves clients with a body they cannot decode.",
        aliases: &[],
        check: responses::validation_answer_mappable,
    },
    // standard --------------------------------------------------------------
    Rule {
        id: "response-success-code",
        category: Standard,
        severity: Warning,
        rationale: "One success code per method (GET 200, POST 201/202/204, PUT 200/201, PATCH 200/204, DELETE 204) makes every client alike.",
        aliases: STANDARD_RESPONSE,
        check: responses::response_success_code,
    },
    Rule {
        id: "response-404-declared",
        category: Standard,
        severity: Warning,
        rationale: "GET, PATCH and DELETE on a path naming one resource can find nothing, and say so with 404.",
        aliases: STANDARD_RESPONSE,
        check: responses::response_404_declared,
    },
    Rule {
        id: "response-401-unit",
        category: Standard,
        severity: Warning,
        rationale: "401 comes from the auth layer before the operation runs; it has no body.",
        aliases: STANDARD_RESPONSE,
        check: responses::response_401_unit,
    },
    Rule {
        id: "response-422-error-model",
        category: Standard,
        severity: Warning,
        rationale: "Validation failures (422) use an error model, so clients parse every one the same way.",
        aliases: STANDARD_RESPONSE,
        check: responses::response_422_error_model,
    },
    Rule {
        id: "auth-401-declared",
        category: Standard,
        severity: Warning,
        rationale: "An operation that requires a token can answer 401, and its spec should say so.",
        aliases: &[],
        check: responses::auth_401_declared,
    },
    Rule {
        id: "collection-pagination",
        category: Standard,
        severity: Warning,
        rationale: "A GET returning a list takes optional `limit` and `offset`: unbounded lists break at scale.",
        aliases: &["get"],
        check: collections::collection_pagination,
    },
    Rule {
        id: "collection-sort",
        category: Standard,
        severity: Warning,
        rationale: "A GET returning a list takes a `sort` string with a default: paging needs a stable order.",
        aliases: &["sort", "sort_parameter_default"],
        check: collections::collection_sort,
    },
    Rule {
        id: "pagination-parameter-types",
        category: Standard,
        severity: Warning,
        rationale: "`limit` is a long (default 25, 1..=100) and `offset` a long (default 0, minimum 0) everywhere.",
        aliases: &["common_parameter_types"],
        check: collections::pagination_parameter_types,
    },
    Rule {
        id: "field-common-types",
        category: Standard,
        severity: Warning,
        rationale: "Well-known field names have one type everywhere: id/number/email string, guid uuid, count long, *_at date-time, *_on date.",
        aliases: &["common_field_types"],
        check: types::field_common_types,
    },
    Rule {
        id: "parameter-common-types",
        category: Standard,
        severity: Warning,
        rationale: "Parameters named like well-known fields have the same types as those fields.",
        aliases: &["common_parameter_types"],
        check: types::parameter_common_types,
    },
    Rule {
        id: "union-discriminator",
        category: Standard,
        severity: Warning,
        rationale: "A discriminator gives unions flat JSON instead of one-key wrapper objects.",
        aliases: &["union_types_have_common_discriminator"],
        check: unions::union_discriminator,
    },
    Rule {
        id: "union-discriminator-name",
        category: Standard,
        severity: Warning,
        rationale: "Every union names its discriminator `discriminator`, so clients read types one way.",
        aliases: &["union_types_have_common_discriminator"],
        check: unions::union_discriminator_name,
    },
    Rule {
        id: "error-model-shape",
        category: Standard,
        severity: Warning,
        rationale: "Error models (`*_error`) carry `code` (string or enum) and `messages` ([string]) or `message`.",
        aliases: &["error_models"],
        check: unions::error_model_shape,
    },
    Rule {
        id: "type-name-snake-case",
        category: Standard,
        severity: Warning,
        rationale: "Model, enum, union and interface names are snake_case, which every generator maps predictably.",
        aliases: &[],
        check: naming::type_name_snake_case,
    },
    Rule {
        id: "field-name-snake-case",
        category: Standard,
        severity: Warning,
        rationale: "Field names are snake_case: one JSON style across all services.",
        aliases: &[],
        check: naming::field_name_snake_case,
    },
    Rule {
        id: "parameter-name-snake-case",
        category: Standard,
        severity: Warning,
        rationale: "Path, query and form parameter names are snake_case, like fields.",
        aliases: &[],
        check: naming::parameter_name_snake_case,
    },
    Rule {
        id: "enum-value-snake-case",
        category: Standard,
        severity: Warning,
        rationale: "Enum value names are snake_case: one wire style across all services.",
        aliases: &[],
        check: naming::enum_value_snake_case,
    },
    Rule {
        id: "type-name-singular",
        category: Standard,
        severity: Warning,
        rationale: "A type names one thing; lists are `[T]`, and resource paths are pluralised for you.",
        aliases: &[],
        check: naming::type_name_singular,
    },
    Rule {
        id: "inclusive-terminology",
        category: Standard,
        severity: Warning,
        rationale: "No whitelist/blacklist/master/slave: allowlist, denylist, primary and replica say it better.",
        aliases: &[],
        check: naming::inclusive_terminology,
    },
    // strict ----------------------------------------------------------------
    Rule {
        id: "description-missing",
        category: Strict,
        severity: Warning,
        rationale: "The spec is the documentation: the service, every type and every operation says what it is for.",
        aliases: &[],
        check: docs::description_missing,
    },
    Rule {
        id: "boolean-no-is-prefix",
        category: Strict,
        severity: Warning,
        rationale: "Boolean fields are named for the property (`active`), not `is_active`: the type already says yes/no.",
        aliases: &[],
        check: naming::boolean_no_is_prefix,
    },
    Rule {
        id: "field-no-json-type",
        category: Strict,
        severity: Warning,
        rationale: "`object` and `json` fields escape validation, documentation and generated types.",
        aliases: &[],
        check: docs::field_no_json_type,
    },
    // events ----------------------------------------------------------------
    Rule {
        id: "event-union-name",
        category: Events,
        severity: Warning,
        rationale: "Streams are found by name: a union of event models is named `*_event`.",
        aliases: &[],
        check: events::event_union_name,
    },
    Rule {
        id: "event-union-members",
        category: Events,
        severity: Error,
        rationale: "Every member of a stream (`*_event` union) is an event model.",
        aliases: &[],
        check: events::event_union_members,
    },
    Rule {
        id: "event-model-fields",
        category: Events,
        severity: Error,
        rationale: "Events start with `event_id` (string) then `timestamp` (date-time): consumers dedupe and order by them.",
        aliases: &["event_models", "event_model"],
        check: events::event_model_fields,
    },
    Rule {
        id: "event-upserted-deleted-pair",
        category: Events,
        severity: Warning,
        rationale: "Every `*_upserted` event has a `*_deleted` on the same stream, so copies can follow deletions.",
        aliases: &[],
        check: events::event_upserted_deleted_pair,
    },
    Rule {
        id: "event-upserted-payload",
        category: Events,
        severity: Warning,
        rationale: "`<x>_upserted` carries the whole new `<x>` in a field `<x>`, so consumers need no call back.",
        aliases: &["upserted_deleted_event_models"],
        check: events::event_upserted_payload,
    },
    Rule {
        id: "event-deleted-fields",
        category: Events,
        severity: Warning,
        rationale: "`<x>_deleted` carries only `event_id`, `timestamp` and the id: the data itself is gone.",
        aliases: &["upserted_deleted_event_models"],
        check: events::event_deleted_fields,
    },
    // db --------------------------------------------------------------------
    Rule {
        id: "db-primary-key-type",
        category: Db,
        severity: Warning,
        rationale: "Primary keys are strings, uuids, integers or longs: they index, compare and appear in URLs.",
        aliases: &[],
        check: db::db_primary_key_type,
    },
    Rule {
        id: "db-journal-events",
        category: Db,
        severity: Warning,
        rationale: "A journaled table `<x>` publishes `<x>_upserted` and `<x>_deleted` on a stream; without one, its journal is kept but published nowhere.",
        aliases: &[],
        check: db::db_journal_events,
    },
];
