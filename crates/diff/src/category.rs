//! What kind of change something is: a stable id (`field-removed`) used in reports
//! and in `[diff] allow` rules.

use std::fmt;

use serde::Serialize;

macro_rules! categories {
    ($($variant:ident = $id:literal: $doc:literal,)*) => {
        /// The kind of a change. Ids are stable: they appear in `blueprint.toml`
        /// allowances and in JSON output.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Category {
            $(#[doc = $doc] $variant,)*
        }

        impl Category {
            pub const ALL: &'static [Category] = &[$(Category::$variant,)*];

            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Category::$variant => $id,)*
                }
            }

            /// One line saying what the category covers.
            pub fn description(&self) -> &'static str {
                match self {
                    $(Category::$variant => $doc,)*
                }
            }
        }
    };
}

categories! {
    NamespaceChanged = "namespace-changed": "The service namespace changed: every generated type moves.",
    ServiceMetadataChanged = "service-metadata-changed": "Name, organization, application, version, base_url or info changed.",
    DescriptionChanged = "description-changed": "A description or example changed.",
    DeprecationChanged = "deprecation-changed": "Something was deprecated or un-deprecated.",
    AttributeChanged = "attribute-changed": "An attribute was added, removed or changed.",
    PluralChanged = "plural-changed": "A type's plural changed (generated names only).",
    ImportChanged = "import-changed": "An import was added, removed or changed.",
    AnnotationChanged = "annotation-changed": "An annotation declaration was added, removed or changed.",

    TypeRemoved = "type-removed": "A model, enum, union or interface was removed.",
    TypeAdded = "type-added": "A model, enum, union or interface was added.",
    ImplementsChanged = "implements-changed": "The interfaces a model or union implements changed.",

    FieldRemoved = "field-removed": "A field was removed.",
    FieldAddedRequired = "field-added-required": "A required field without a default was added.",
    FieldAdded = "field-added": "An optional field, or a required one with a default, was added.",
    FieldTypeChanged = "field-type-changed": "A field's type changed.",
    FieldNowRequired = "field-now-required": "An optional field became required.",
    FieldNowOptional = "field-now-optional": "A required field became optional (breaks readers of responses and events, not writers of requests).",

    DefaultRemoved = "default-removed": "A default was removed: callers that omitted the value now fail.",
    DefaultChanged = "default-changed": "A default changed: omitted values (requests, stored events) now mean something else.",
    DefaultAdded = "default-added": "A default was added.",
    MinimumRaised = "minimum-raised": "A minimum was added or raised: values valid before are now rejected.",
    MinimumLowered = "minimum-lowered": "A minimum was lowered or removed.",
    MaximumLowered = "maximum-lowered": "A maximum was added or lowered: values valid before are now rejected.",
    MaximumRaised = "maximum-raised": "A maximum was raised or removed.",

    EnumValueRemoved = "enum-value-removed": "An enum value was removed.",
    EnumValueAdded = "enum-value-added": "An enum value was added (clients and consumers must tolerate unknown values).",
    EnumValueWireChanged = "enum-value-wire-changed": "An enum value kept its name but its wire `value` changed.",
    EnumValueRenamed = "enum-value-renamed": "An enum value was renamed but kept its wire value (generated code only).",

    UnionTypeRemoved = "union-type-removed": "A type was removed from a union (for a stream: an event type).",
    UnionTypeAdded = "union-type-added": "A type was added to a union.",
    UnionDiscriminatorValueChanged = "union-discriminator-value-changed": "A union member's discriminator value (its tag on the wire) changed.",
    UnionDefaultChanged = "union-default-changed": "A union's default type was removed or changed.",
    UnionDefaultAdded = "union-default-added": "A union got a default type.",
    DiscriminatorAdded = "discriminator-added": "A union got a discriminator: the wire shape changes from wrapped to flattened.",
    DiscriminatorRemoved = "discriminator-removed": "A union lost its discriminator: the wire shape changes from flattened to wrapped.",
    DiscriminatorChanged = "discriminator-changed": "A union's discriminator field was renamed.",
    StreamPartitionKeyChanged = "stream-partition-key-changed": "A stream's partition key changed: per-key ordering seen by consumers changes.",
    StreamRetentionLowered = "stream-retention-lowered": "A stream keeps events for less time: consumers lose part of their replay window.",
    StreamRetentionRaised = "stream-retention-raised": "A stream keeps events for longer.",
    ConsumesChanged = "consumes-changed": "The streams this service consumes changed (the dependency graph moves).",

    HeaderRemoved = "header-removed": "A service header was removed (clients may keep sending it).",
    HeaderAddedRequired = "header-added-required": "A required header without a default was added.",
    HeaderAdded = "header-added": "An optional header was added.",
    HeaderTypeChanged = "header-type-changed": "A header's type changed.",
    HeaderNowRequired = "header-now-required": "An optional header became required.",
    HeaderNowOptional = "header-now-optional": "A required header became optional.",

    ResourceRemoved = "resource-removed": "A resource and all its operations were removed.",
    ResourceAdded = "resource-added": "A resource was added.",
    OperationRemoved = "operation-removed": "An operation was removed.",
    OperationAdded = "operation-added": "An operation was added.",
    AuthTightened = "auth-tightened": "An operation now needs authentication, more roles or claims, or scopes rows by a new tenant claim.",
    AuthRelaxed = "auth-relaxed": "An operation needs less authentication than before, or no longer scopes by a claim.",
    BodyAdded = "body-added": "An operation now takes a body.",
    BodyRemoved = "body-removed": "An operation no longer takes a body.",
    BodyTypeChanged = "body-type-changed": "An operation's body type changed.",
    ParameterRemoved = "parameter-removed": "A parameter was removed.",
    ParameterAddedRequired = "parameter-added-required": "A required parameter without a default was added.",
    ParameterAdded = "parameter-added": "An optional parameter, or a required one with a default, was added.",
    ParameterTypeChanged = "parameter-type-changed": "A parameter's type changed.",
    ParameterNowRequired = "parameter-now-required": "An optional parameter became required.",
    ParameterNowOptional = "parameter-now-optional": "A required parameter became optional.",
    ParameterLocationChanged = "parameter-location-changed": "A parameter moved (path, query, form, header).",
    PathParameterRenamed = "path-parameter-renamed": "A path parameter was renamed in place (generated code only).",
    ResponseRemoved = "response-removed": "A response code was removed.",
    ResponseAdded = "response-added": "A response code was added.",
    ResponseTypeChanged = "response-type-changed": "A response's type changed.",
    ResponseHeaderRemoved = "response-header-removed": "A response no longer sends a header clients may rely on.",
    ResponseHeaderAdded = "response-header-added": "A response sends a new header.",
    ResponseHeaderTypeChanged = "response-header-type-changed": "A response header's type changed.",
}

impl Category {
    pub fn parse(id: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.as_str() == id)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where a change matters: the HTTP API, or events a stream has already stored.
///
/// A change inside a type reached from a stream union (`*_event`) is an `Event`
/// change: its id is prefixed `event-` (`event-field-added-required`) so it can be
/// allowed separately, and it is judged by what stored events and deployed
/// consumers need, not only by what HTTP clients need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Api,
    Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for c in Category::ALL {
            let id = c.as_str();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{id} is not kebab-case"
            );
            assert!(
                !id.starts_with("event-"),
                "{id} collides with the event scope"
            );
            assert_eq!(Category::parse(id), Some(*c));
        }
    }
}
