//! The operation catalogue: every operation of a Kubernetes `swagger.json`
//! (OpenAPI v2) with what coverage reports need to know about it.

use ahash::AHashMap;
use indexmap::IndexMap;
use serde::Deserialize;

use crate::error::{Error, Result};

/// A fingerprint of the rules that read a spec into a [`Catalogue`]: the
/// text of this file, hashed when core is compiled. Any edit to it gives
/// another value, so a cache of catalogues keyed by it never serves one
/// built by other rules.
pub const RULES_VERSION: u64 = text_fingerprint(include_bytes!("spec.rs"));

/// FNV-1a (64 bits) of `text`, computed at compile time for the
/// `RULES_VERSION` constants of this module and of `lists`.
pub(crate) const fn text_fingerprint(text: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < text.len() {
        hash ^= text[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The parts of a swagger document the catalogue reads.
#[derive(Deserialize)]
struct SwaggerDoc {
    info: Option<SpecInfo>,
    paths: Option<IndexMap<String, PathItem>>,
}

#[derive(Deserialize)]
struct SpecInfo {
    version: Option<String>,
}

#[derive(Deserialize)]
struct PathItem {
    get: Option<RawOperation>,
    post: Option<RawOperation>,
    put: Option<RawOperation>,
    patch: Option<RawOperation>,
    delete: Option<RawOperation>,
    head: Option<RawOperation>,
    options: Option<RawOperation>,
}

impl PathItem {
    fn operations(&self) -> impl Iterator<Item = (Method, &RawOperation)> {
        [
            (Method::Get, &self.get),
            (Method::Post, &self.post),
            (Method::Put, &self.put),
            (Method::Patch, &self.patch),
            (Method::Delete, &self.delete),
            (Method::Head, &self.head),
            (Method::Options, &self.options),
        ]
        .into_iter()
        .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
    }
}

#[derive(Deserialize)]
struct RawOperation {
    #[serde(rename = "operationId")]
    operation_id: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(rename = "x-kubernetes-action")]
    action: Option<String>,
}

/// Index of an operation in its [`Catalogue`]; cheap to copy and count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u32);

impl OpId {
    /// The operation's index in the catalogue.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// HTTP methods that appear in Kubernetes specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
    /// `OPTIONS`
    Options,
}

impl Method {
    /// Every method, in index order.
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    /// The method's index in [`Method::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What an operation does, from `x-kubernetes-action` or, for operations
/// without one, from the shape of its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// `get` of one object.
    Read,
    /// `list` of a collection.
    List,
    /// `watch` of one object (deprecated `/watch/` paths).
    Watch,
    /// `watchlist` of a collection (deprecated `/watch/` paths).
    WatchList,
    /// `post`: create.
    Create,
    /// `put`: replace.
    Replace,
    /// `patch`.
    Patch,
    /// `delete` of one object.
    Delete,
    /// `deletecollection`.
    DeleteCollection,
    /// `connect` (proxy, exec, attach, port-forward).
    Connect,
    /// API discovery (`getAPIResources`, `getAPIGroup`, …).
    Discovery,
    /// Paths outside the resource API (`/version`, `/logs`, …).
    NonResource,
}

impl OperationKind {
    /// Every kind, in declaration order (`ALL[k as usize] == k`).
    pub const ALL: [OperationKind; 12] = [
        OperationKind::Read,
        OperationKind::List,
        OperationKind::Watch,
        OperationKind::WatchList,
        OperationKind::Create,
        OperationKind::Replace,
        OperationKind::Patch,
        OperationKind::Delete,
        OperationKind::DeleteCollection,
        OperationKind::Connect,
        OperationKind::Discovery,
        OperationKind::NonResource,
    ];

    /// The kind's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Read => "read",
            OperationKind::List => "list",
            OperationKind::Watch => "watch",
            OperationKind::WatchList => "watch-list",
            OperationKind::Create => "create",
            OperationKind::Replace => "replace",
            OperationKind::Patch => "patch",
            OperationKind::Delete => "delete",
            OperationKind::DeleteCollection => "deletecollection",
            OperationKind::Connect => "connect",
            OperationKind::Discovery => "discovery",
            OperationKind::NonResource => "non-resource",
        }
    }
}

/// One operation of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The operationId.
    pub id: String,
    /// The HTTP method.
    pub method: Method,
    /// The path as the spec spells it, e.g. `/api/v1/namespaces/{namespace}/pods`.
    pub template: String,
    /// API group: `Some("")` for the core group, None for unversioned paths.
    pub group: Option<String>,
    /// API version (`v1`, `v1beta1`), None for unversioned paths.
    pub version: Option<String>,
    /// What the operation does.
    pub kind: OperationKind,
    /// The reference's rule: the description mentions "deprecated".
    pub deprecated: bool,
    /// GA: no alpha/beta version (see [`Catalogue::from_json`] for discovery paths).
    pub stable: bool,
    /// False for HEAD and OPTIONS: the apiserver logs those with verb `get`
    /// (kubernetes/kubernetes#95966), so no audit log can show them.
    pub observable: bool,
}

/// Every operation of one spec, in the spec's order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    operations: Vec<Operation>,
    by_name: AHashMap<String, OpId>,
    /// The spec's `info.version` (`v1.34.0`), for reports.
    version: Option<String>,
}

impl Catalogue {
    /// Parses a swagger document. `source_name` is used in error messages.
    pub fn from_json(bytes: &[u8], source_name: &str) -> Result<Catalogue> {
        let spec_err = |message: String| Error::Spec {
            source_name: source_name.to_string(),
            message,
        };
        // Typed and partial: `definitions`, parameters and responses (most of
        // the 4 MB) are skipped, not built (34 ms → 10 ms for the 1.34 spec).
        let doc: SwaggerDoc = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                spec_err(format!("not JSON: {e}"))
            } else {
                spec_err(e.to_string())
            }
        })?;
        let paths = doc
            .paths
            .ok_or_else(|| spec_err("no \"paths\" object".to_string()))?;

        let mut operations = Vec::new();
        let mut by_name = AHashMap::new();
        for (path, item) in &paths {
            for (method, op) in item.operations() {
                let Some(id) = op.operation_id.as_deref() else {
                    continue;
                };
                let (group, version) = group_version(path);
                let operation = Operation {
                    id: id.to_string(),
                    method,
                    template: path.clone(),
                    kind: kind_of(op.action.as_deref(), path),
                    stable: version.as_deref().is_none_or(is_ga_version),
                    group,
                    version,
                    deprecated: op.description.to_ascii_lowercase().contains("deprecated"),
                    observable: !matches!(method, Method::Head | Method::Options),
                };
                if by_name.contains_key(id) {
                    return Err(spec_err(format!("operationId {id} appears twice")));
                }
                by_name.insert(id.to_string(), OpId(operations.len() as u32));
                operations.push(operation);
            }
        }
        if operations.is_empty() {
            return Err(spec_err("\"paths\" holds no operations".to_string()));
        }

        // A group discovery path (/apis/<group>/) has no version of its own: it is
        // stable when the group serves a GA version. The reference looks for
        // "alpha"/"beta" in the operationId and so calls alpha-only groups stable.
        let ga_groups: ahash::AHashSet<String> = operations
            .iter()
            .filter(|op| op.version.as_deref().is_some_and(is_ga_version))
            .filter_map(|op| op.group.clone())
            .collect();
        for op in &mut operations {
            if op.version.is_none() {
                if let Some(group) = &op.group {
                    op.stable = ga_groups.contains(group);
                }
            }
        }
        Ok(Catalogue {
            operations,
            by_name,
            version: doc.info.and_then(|i| i.version),
        })
    }

    /// A catalogue from operations built before (by [`Catalogue::from_json`],
    /// then stored: see `catalogue_cache`), in their order. None when an
    /// operationId appears twice, which `from_json` never lets through.
    pub fn from_operations(
        operations: Vec<Operation>,
        version: Option<String>,
    ) -> Option<Catalogue> {
        let mut by_name = AHashMap::with_capacity(operations.len());
        for (i, op) in operations.iter().enumerate() {
            if by_name.insert(op.id.clone(), OpId(i as u32)).is_some() {
                return None;
            }
        }
        Some(Catalogue {
            operations,
            by_name,
            version,
        })
    }

    /// The spec's `info.version`, when it has one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Operations in the catalogue.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether the catalogue has no operation.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operation `id`.
    pub fn get(&self, id: OpId) -> &Operation {
        &self.operations[id.index()]
    }

    /// The operation named `name` (an operationId).
    pub fn lookup(&self, name: &str) -> Option<OpId> {
        self.by_name.get(name).copied()
    }

    /// Every operation with its id, in catalogue order.
    pub fn operations(&self) -> impl ExactSizeIterator<Item = (OpId, &Operation)> {
        self.operations
            .iter()
            .enumerate()
            .map(|(i, op)| (OpId(i as u32), op))
    }

    /// A digest of everything coverage depends on: each operation's id,
    /// method, template and classification, in sorted order (so the spec's
    /// formatting and its `definitions` do not count). Reports carry it, so
    /// results parsed against different specs are not combined unawares.
    pub fn digest(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes.iter().chain([&0xff]) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for id in self.sorted_ids() {
            let op = self.get(id);
            eat(op.id.as_bytes());
            eat(op.method.as_str().as_bytes());
            eat(op.template.as_bytes());
            eat(&[
                u8::from(op.stable),
                u8::from(op.deprecated),
                u8::from(op.observable),
            ]);
        }
        format!("{hash:016x}")
    }

    /// Operation ids sorted by byte order, as `swagger_operations.txt` lists them.
    pub fn sorted_ids(&self) -> Vec<OpId> {
        let mut ids: Vec<OpId> = (0..self.operations.len() as u32).map(OpId).collect();
        ids.sort_by(|a, b| self.get(*a).id.cmp(&self.get(*b).id));
        ids
    }

    /// Whether any operation is deprecated (the reference prints its
    /// "Deprecated … filtered" header lines only then).
    pub fn has_deprecated(&self) -> bool {
        self.operations.iter().any(|op| op.deprecated)
    }
}

/// `v1`, `v2` are GA; `v1beta1`, `v2alpha1` are not.
pub(crate) fn is_ga_version(version: &str) -> bool {
    !version.contains("alpha") && !version.contains("beta")
}

/// Group and version from a path: `/api/v1/…` is the core group,
/// `/apis/<group>/<version>/…` a named group, `/apis/<group>/` a group without
/// version; anything else (`/version/`, `/logs/`, `/api/`) has neither.
fn group_version(path: &str) -> (Option<String>, Option<String>) {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["api", version, ..] => (Some(String::new()), Some(version.to_string())),
        ["apis", group] => (Some(group.to_string()), None),
        ["apis", group, version, ..] => (Some(group.to_string()), Some(version.to_string())),
        _ => (None, None),
    }
}

fn kind_of(action: Option<&str>, path: &str) -> OperationKind {
    match action {
        Some("get") => OperationKind::Read,
        Some("list") => OperationKind::List,
        Some("watch") => OperationKind::Watch,
        Some("watchlist") => OperationKind::WatchList,
        Some("post") => OperationKind::Create,
        Some("put") => OperationKind::Replace,
        Some("patch") => OperationKind::Patch,
        Some("delete") => OperationKind::Delete,
        Some("deletecollection") => OperationKind::DeleteCollection,
        Some("connect") => OperationKind::Connect,
        _ => {
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            match segments.as_slice() {
                ["api"] | ["apis"] | ["api", _] | ["apis", _] | ["apis", _, _] => {
                    OperationKind::Discovery
                }
                _ => OperationKind::NonResource,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants are the fingerprints of the files as they are now (not
    /// a value written by hand), and one byte changed changes one.
    #[test]
    fn rules_versions_follow_the_rules_text() {
        let read = |name: &str| {
            std::fs::read(format!("{}/src/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
        };
        let spec = read("spec.rs");
        assert_eq!(RULES_VERSION, text_fingerprint(&spec));
        assert_eq!(
            crate::lists::RULES_VERSION,
            text_fingerprint(&read("lists.rs"))
        );
        assert_ne!(RULES_VERSION, crate::lists::RULES_VERSION);
        let mut edited = spec.clone();
        edited[0] ^= 1;
        assert_ne!(text_fingerprint(&edited), RULES_VERSION);
    }

    const MINI: &str = r#"{"paths":{
      "/apis/storagemigration.k8s.io/": {"get": {"operationId": "getStoragemigrationAPIGroup"}},
      "/apis/storagemigration.k8s.io/v1alpha1/": {"get": {"operationId": "getStoragemigrationV1alpha1APIResources"}},
      "/apis/apps/": {"get": {"operationId": "getAppsAPIGroup"}},
      "/apis/apps/v1/": {"get": {"operationId": "getAppsV1APIResources"}},
      "/api/v1/nodes/{name}/proxy": {
        "parameters": [],
        "get": {"operationId": "connectCoreV1GetNodeProxy", "x-kubernetes-action": "connect"},
        "head": {"operationId": "connectCoreV1HeadNodeProxy", "x-kubernetes-action": "connect"}},
      "/api/v1/watch/pods": {"get": {"operationId": "watchCoreV1PodListForAllNamespaces",
        "description": "watch individual changes. deprecated: use the 'watch' parameter", "x-kubernetes-action": "watchlist"}},
      "/version/": {"get": {"operationId": "getCodeVersion"}}
    }}"#;

    #[test]
    fn classifies_operations() {
        let cat = Catalogue::from_json(MINI.as_bytes(), "mini").unwrap();
        let op = |name: &str| cat.get(cat.lookup(name).unwrap());
        assert!(!op("getStoragemigrationAPIGroup").stable);
        assert!(op("getAppsAPIGroup").stable);
        assert_eq!(op("getAppsAPIGroup").kind, OperationKind::Discovery);
        assert!(!op("connectCoreV1HeadNodeProxy").observable);
        assert!(op("connectCoreV1GetNodeProxy").observable);
        assert_eq!(op("connectCoreV1GetNodeProxy").group.as_deref(), Some(""));
        assert!(op("watchCoreV1PodListForAllNamespaces").deprecated);
        assert_eq!(
            op("watchCoreV1PodListForAllNamespaces").kind,
            OperationKind::WatchList
        );
        assert!(op("getCodeVersion").stable);
        assert_eq!(op("getCodeVersion").kind, OperationKind::NonResource);
        assert_eq!(cat.len(), 8);
    }

    #[test]
    fn rejects_documents_without_paths() {
        let err = Catalogue::from_json(b"{\"swagger\":\"2.0\"}", "x.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.json: invalid swagger spec: no \"paths\" object"
        );
        let err = Catalogue::from_json(b"{not json", "y.json").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("y.json: invalid swagger spec: not JSON"));
    }
}
