//! Realistic request and response bodies for `apicov gen --shape
//! large-bodies`: the objects a Request or RequestResponse audit policy logs,
//! with what makes real ones large (see `../shared/real-audit`, the AKS
//! controllerrevision update and the networkpolicy create): `managedFields`
//! whose keys hold escaped quotes (`k:{\"name\":\"web\"}`), kubectl's
//! last-applied annotation (a whole object as an escaped JSON string), pod
//! templates with env, probes and volumes, status conditions, and lists of
//! such objects. A line with a body is 5–50 KB; events, leases and access
//! reviews stay small, as they are in real logs (the reviews keep their
//! decoy `verb` and `stage` keys).

use std::fmt::Write as _;

use crate::options::Level;
use crate::rng::Rng;

/// The bodies of one request, written verbatim after `"requestObject":` and
/// `"responseObject":`.
pub(crate) struct Bodies {
    pub request: Option<String>,
    pub response: Option<String>,
}

/// A list response stops growing past this many bytes (real apiservers page
/// lists at `?limit=500`; lines of a few MB exist but are rare).
const LIST_MAX: usize = 46 << 10;

/// What the apiserver logs for a request (`verb` on `uri`, of `resource`:
/// group, version, resource, namespace) at `level`: the request body of
/// writes (create, update, patch, delete options) in every stage, and at
/// RequestResponse the response of everything but watches. Non-resource
/// requests have no bodies.
pub(crate) fn bodies(
    verb: &str,
    uri: &str,
    resource: Option<&(String, String, String, String)>,
    level: Level,
    rng: &mut Rng,
) -> Bodies {
    let none = Bodies {
        request: None,
        response: None,
    };
    let Some((group, version, resource, namespace)) = resource else {
        return none;
    };
    if level == Level::Metadata {
        return none;
    }
    let api_version = if group.is_empty() {
        version.clone()
    } else {
        format!("{group}/{version}")
    };
    let name = name_of(uri, verb, rng);
    let obj = Obj {
        kind: kind_of(resource),
        api_version: &api_version,
        resource,
        namespace,
        name: &name,
    };
    let response = level == Level::RequestResponse;
    match verb {
        "watch" => none,
        "create" | "update" | "patch" if resource.ends_with("reviews") => Bodies {
            request: Some(review(&obj, false)),
            response: response.then(|| review(&obj, true)),
        },
        "create" => Bodies {
            request: Some(object(&obj, Detail::Client, rng)),
            response: response.then(|| object(&obj, Detail::Server, rng)),
        },
        "update" => Bodies {
            request: Some(object(&obj, Detail::Server, rng)),
            response: response.then(|| object(&obj, Detail::Server, rng)),
        },
        "patch" => Bodies {
            request: Some(patch(&obj, rng)),
            response: response.then(|| object(&obj, Detail::Server, rng)),
        },
        "delete" => Bodies {
            request: rng.chance(50).then(delete_options),
            response: response.then(|| object(&obj, Detail::Server, rng)),
        },
        "deletecollection" => Bodies {
            request: Some(delete_options()),
            response: response.then(|| list(&obj, rng)),
        },
        "list" => Bodies {
            request: None,
            response: response.then(|| list(&obj, rng)),
        },
        _ => Bodies {
            request: None,
            response: response.then(|| object(&obj, Detail::Server, rng)),
        },
    }
}

struct Obj<'a> {
    kind: String,
    api_version: &'a str,
    resource: &'a str,
    namespace: &'a str,
    name: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// What a client sends on create: no uid, status or managedFields.
    Client,
    /// What the server stores and returns.
    Server,
}

/// The object's name: the URI's last segment for requests on one object,
/// a generated one otherwise.
fn name_of(uri: &str, verb: &str, rng: &mut Rng) -> String {
    let path = uri.split('?').next().unwrap_or(uri);
    match verb {
        "get" | "update" | "patch" | "delete" => path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("x")
            .to_string(),
        _ => format!(
            "web-{:x}-{:05x}",
            rng.next() & 0xff_ffff,
            rng.next() & 0xf_ffff
        ),
    }
}

fn kind_of(resource: &str) -> String {
    let known = [
        ("pods", "Pod"),
        ("deployments", "Deployment"),
        ("replicasets", "ReplicaSet"),
        ("statefulsets", "StatefulSet"),
        ("daemonsets", "DaemonSet"),
        ("jobs", "Job"),
        ("cronjobs", "CronJob"),
        ("configmaps", "ConfigMap"),
        ("secrets", "Secret"),
        ("events", "Event"),
        ("leases", "Lease"),
        ("endpointslices", "EndpointSlice"),
        ("services", "Service"),
        ("nodes", "Node"),
        ("subjectaccessreviews", "SubjectAccessReview"),
        ("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
        ("localsubjectaccessreviews", "LocalSubjectAccessReview"),
        ("selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        ("selfsubjectreviews", "SelfSubjectReview"),
        ("tokenreviews", "TokenReview"),
    ];
    if let Some((_, kind)) = known.iter().find(|(r, _)| *r == resource) {
        return kind.to_string();
    }
    let singular = resource.strip_suffix('s').unwrap_or(resource);
    let mut chars = singular.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Object".into(),
    }
}

/// Appends `s` as a JSON string the way Go's encoder writes it (`<`, `>`,
/// `&` as `\u003c`, `\u003e`, `\u0026`).
fn push_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn uid(rng: &mut Rng) -> String {
    rng.uuid()
}

fn timestamp(rng: &mut Rng) -> String {
    let s = rng.below(86_400);
    format!(
        "2026-11-26T{:02}:{:02}:{:02}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

const IMAGES: &[&str] = &[
    "registry.k8s.io/e2e-test-images/agnhost:2.53",
    "registry.k8s.io/e2e-test-images/httpd:2.4.39-4",
    "registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
    "registry.k8s.io/pause:3.10",
    "docker.io/library/nginx:1.27-alpine@sha256:4ff102c5d78d254a6f0da062b3cf39eaf07f01eec0927fd21e219d0af8bc0591",
];

/// Labels of the object (and of its pod template).
fn labels(out: &mut String, obj: &Obj, rng: &mut Rng) {
    let _ = write!(
        out,
        r#"{{"app.kubernetes.io/instance":"{}","app.kubernetes.io/name":"web","app.kubernetes.io/part-of":"e2e-{:x}","e2e-run":"{}","pod-template-hash":"{:x}","tier":"frontend"}}"#,
        obj.name,
        rng.next() & 0xffff,
        uid(rng),
        rng.next() & 0xff_ffff_ffff
    );
}

/// The pod spec: 1–3 containers with env, ports, probes, mounts, plus the
/// projected service-account volume every pod carries.
fn pod_spec(out: &mut String, obj: &Obj, rng: &mut Rng) {
    out.push_str(r#"{"volumes":[{"name":"kube-api-access-"#);
    let _ = write!(out, "{:05x}", rng.next() & 0xf_ffff);
    out.push_str(r#"","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}},{"name":"config","configMap":{"name":"web-config","defaultMode":420}},{"name":"data","emptyDir":{"sizeLimit":"1Gi"}}],"containers":["#);
    let containers = 1 + rng.below(2);
    for c in 0..containers {
        if c > 0 {
            out.push(',');
        }
        let image = IMAGES[rng.below(IMAGES.len())];
        let _ = write!(
            out,
            r#"{{"name":"c{c}","image":"{image}","command":["/agnhost"],"args":["netexec","--http-port=8080","--udp-port=8081","--delay-shutdown=30"],"ports":[{{"name":"http","containerPort":8080,"protocol":"TCP"}},{{"name":"udp","containerPort":8081,"protocol":"UDP"}}],"env":["#
        );
        let env = 4 + rng.below(10);
        for e in 0..env {
            if e > 0 {
                out.push(',');
            }
            match e % 4 {
                0 => {
                    let _ = write!(
                        out,
                        r#"{{"name":"POD_NAME","valueFrom":{{"fieldRef":{{"apiVersion":"v1","fieldPath":"metadata.name"}}}}}}"#
                    );
                }
                1 => {
                    let _ = write!(
                        out,
                        r#"{{"name":"JAVA_OPTS_{e}","value":"-Xmx512m -Dfile.encoding=UTF-8 -Dgreeting=\"héllo wörld\" -Dlimits=a\u0026b\u003cc"}}"#
                    );
                }
                2 => {
                    let _ = write!(
                        out,
                        r#"{{"name":"DB_PASSWORD_{e}","valueFrom":{{"secretKeyRef":{{"name":"{}-db","key":"password"}}}}}}"#,
                        obj.name
                    );
                }
                _ => {
                    let _ = write!(
                        out,
                        r#"{{"name":"FEATURE_{e}","value":"{:x}"}}"#,
                        rng.next()
                    );
                }
            }
        }
        out.push_str(r#"],"resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"64Mi"}},"volumeMounts":[{"name":"config","readOnly":true,"mountPath":"/etc/web"},{"name":"data","mountPath":"/var/lib/web"},{"name":"kube-api-access","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"livenessProbe":{"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"initialDelaySeconds":5,"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"readinessProbe":{"exec":{"command":["sh","-c","test -f /tmp/ready \u0026\u0026 echo ok"]},"timeoutSeconds":1,"periodSeconds":2,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"}}}"#);
    }
    let _ = write!(
        out,
        r#"],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","nodeSelector":{{"kubernetes.io/os":"linux"}},"serviceAccountName":"default","serviceAccount":"default","nodeName":"kind-worker{}","securityContext":{{"fsGroup":2000}},"affinity":{{"podAntiAffinity":{{"preferredDuringSchedulingIgnoredDuringExecution":[{{"weight":100,"podAffinityTerm":{{"labelSelector":{{"matchExpressions":[{{"key":"app.kubernetes.io/name","operator":"In","values":["web"]}}]}},"topologyKey":"kubernetes.io/hostname"}}}}]}}}},"schedulerName":"default-scheduler","tolerations":[{{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}},{{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"}}"#,
        rng.below(3) + 1
    );
    let _ = obj.namespace;
}

/// managedFields: one entry a field manager, each a nested set of the
/// fields it owns, with list keys written as escaped JSON in the key.
fn managed_fields(out: &mut String, obj: &Obj, rng: &mut Rng) {
    out.push('[');
    let managers = [
        ("kubectl-client-side-apply", "Update"),
        ("kube-controller-manager", "Update"),
        ("e2e.test", "Apply"),
        ("kubelet", "Update"),
    ];
    let n = 2 + rng.below(3);
    for (i, (manager, operation)) in managers.iter().take(n).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"manager":"{manager}","operation":"{operation}","apiVersion":"{}","time":"{}","fieldsType":"FieldsV1","fieldsV1":{{"f:metadata":{{"f:annotations":{{".":{{}},"f:kubectl.kubernetes.io/last-applied-configuration":{{}}}},"f:labels":{{".":{{}},"f:app.kubernetes.io/instance":{{}},"f:app.kubernetes.io/name":{{}},"f:tier":{{}}}}}},"f:spec":{{"f:containers":{{"#,
            obj.api_version,
            timestamp(rng)
        );
        for c in 0..1 + rng.below(2) {
            if c > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#""k:{{\"name\":\"c{c}\"}}":{{".":{{}},"f:args":{{}},"f:env":{{".":{{}},"k:{{\"name\":\"POD_NAME\"}}":{{".":{{}},"f:name":{{}},"f:valueFrom":{{".":{{}},"f:fieldRef":{{}}}}}},"k:{{\"name\":\"FEATURE_3\"}}":{{".":{{}},"f:name":{{}},"f:value":{{}}}}}},"f:image":{{}},"f:imagePullPolicy":{{}},"f:livenessProbe":{{".":{{}},"f:failureThreshold":{{}},"f:httpGet":{{".":{{}},"f:path":{{}},"f:port":{{}},"f:scheme":{{}}}},"f:periodSeconds":{{}}}},"f:name":{{}},"f:ports":{{".":{{}},"k:{{\"containerPort\":8080,\"protocol\":\"TCP\"}}":{{".":{{}},"f:containerPort":{{}},"f:name":{{}},"f:protocol":{{}}}}}},"f:resources":{{".":{{}},"f:limits":{{".":{{}},"f:cpu":{{}},"f:memory":{{}}}}}},"f:volumeMounts":{{".":{{}},"k:{{\"mountPath\":\"/etc/web\"}}":{{".":{{}},"f:mountPath":{{}},"f:name":{{}}}}}}}}"#
            );
        }
        out.push_str(r#"},"f:dnsPolicy":{},"f:restartPolicy":{},"f:volumes":{".":{},"k:{\"name\":\"config\"}":{".":{},"f:configMap":{".":{},"f:name":{}},"f:name":{}}}}}}"#);
        if *manager == "kubelet" {
            out.pop();
            out.pop();
            out.push_str(r#"},"subresource":"status"}"#);
        }
    }
    out.push(']');
}

/// metadata of a stored object (or, for `Detail::Client`, what kubectl
/// sends: name, labels, the last-applied annotation).
fn metadata(out: &mut String, obj: &Obj, detail: Detail, rng: &mut Rng) {
    let _ = write!(out, r#"{{"name":"{}""#, obj.name);
    if !obj.namespace.is_empty() {
        let _ = write!(out, r#","namespace":"{}""#, obj.namespace);
    }
    if detail == Detail::Server {
        let _ = write!(
            out,
            r#","uid":"{}","resourceVersion":"{}","generation":{},"creationTimestamp":"{}""#,
            uid(rng),
            rng.below(90_000_000) + 10_000,
            rng.below(9) + 1,
            timestamp(rng)
        );
    }
    out.push_str(r#","labels":"#);
    labels(out, obj, rng);
    // kubectl apply's copy of what it sent: an escaped JSON string.
    let mut applied = String::new();
    let _ = write!(
        applied,
        r#"{{"apiVersion":"{}","kind":"{}","metadata":{{"annotations":{{"note":"<b>héllo</b> & wörld ✓"}},"name":"{}","namespace":"{}"}},"spec":"#,
        obj.api_version, obj.kind, obj.name, obj.namespace
    );
    pod_spec(&mut applied, obj, rng);
    applied.push_str("}\n");
    out.push_str(r#","annotations":{"deployment.kubernetes.io/revision":"3","kubectl.kubernetes.io/last-applied-configuration":"#);
    push_go_string(out, &applied);
    out.push_str(r#","note":"\u003cb\u003ehéllo\u003c/b\u003e \u0026 wörld ✓"}"#);
    if detail == Detail::Server {
        let _ = write!(
            out,
            r#","ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"{}-{:x}","uid":"{}","controller":true,"blockOwnerDeletion":true}}],"managedFields":"#,
            obj.name,
            rng.next() & 0xff_ffff,
            uid(rng)
        );
        managed_fields(out, obj, rng);
    }
    out.push('}');
}

/// One object of the request's kind.
fn object(obj: &Obj, detail: Detail, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(16 << 10);
    let _ = write!(
        out,
        r#"{{"kind":"{}","apiVersion":"{}","metadata":"#,
        obj.kind, obj.api_version
    );
    match obj.kind.as_str() {
        "Event" | "Lease" => {
            // Small in real logs too: no managedFields worth the name.
            let _ = write!(
                out,
                r#"{{"name":"{}.{:x}","namespace":"{}","uid":"{}","resourceVersion":"{}"}},"#,
                obj.name,
                rng.next(),
                obj.namespace,
                uid(rng),
                rng.below(90_000_000)
            );
            if obj.kind == "Event" {
                let _ = write!(
                    out,
                    r#""involvedObject":{{"kind":"Pod","namespace":"{}","name":"{}","apiVersion":"v1","fieldPath":"spec.containers{{c0}}"}},"reason":"Pulled","message":"Container image \"{}\" already present on machine","source":{{"component":"kubelet","host":"kind-worker"}},"count":1,"type":"Normal"}}"#,
                    obj.namespace,
                    obj.name,
                    IMAGES[rng.below(IMAGES.len())]
                );
            } else {
                let _ = write!(
                    out,
                    r#""spec":{{"holderIdentity":"kind-worker","leaseDurationSeconds":40,"renewTime":"{}.000000Z"}}}}"#,
                    timestamp(rng).trim_end_matches('Z')
                );
            }
            return out;
        }
        _ => metadata(&mut out, obj, detail, rng),
    }
    match obj.kind.as_str() {
        "ConfigMap" | "Secret" => {
            out.push_str(r#","data":{"#);
            for k in 0..2 + rng.below(4) {
                if k > 0 {
                    out.push(',');
                }
                let _ = write!(out, r#""config-{k}.yaml":"#);
                let mut text = String::new();
                for l in 0..40 + rng.below(80) {
                    let _ = writeln!(
                        text,
                        "  key_{l}: \"value {:x}\" # <tuned> & checked\tok",
                        rng.next()
                    );
                }
                push_go_string(&mut out, &text);
            }
            out.push('}');
        }
        "Pod" => {
            out.push_str(r#","spec":"#);
            pod_spec(&mut out, obj, rng);
            if detail == Detail::Server {
                pod_status(&mut out, rng);
            }
        }
        _ => {
            // Workloads and anything else: a spec with a pod template.
            let _ = write!(
                out,
                r#","spec":{{"replicas":{},"selector":{{"matchLabels":{{"app.kubernetes.io/name":"web"}}}},"template":{{"metadata":{{"creationTimestamp":null,"labels":"#,
                rng.below(5) + 1
            );
            labels(&mut out, obj, rng);
            out.push_str(r#"},"spec":"#);
            pod_spec(&mut out, obj, rng);
            out.push_str(r#"},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600}"#);
            if detail == Detail::Server {
                let _ = write!(
                    out,
                    r#","status":{{"observedGeneration":{},"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3,"conditions":[{{"type":"Available","status":"True","lastUpdateTime":"{t}","lastTransitionTime":"{t}","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."}},{{"type":"Progressing","status":"True","lastUpdateTime":"{t}","lastTransitionTime":"{t}","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"{}-{:x}\" has successfully progressed."}}]}}"#,
                    rng.below(9) + 1,
                    obj.name,
                    rng.next() & 0xff_ffff,
                    t = timestamp(rng)
                );
            }
        }
    }
    out.push('}');
    out
}

fn pod_status(out: &mut String, rng: &mut Rng) {
    let t = timestamp(rng);
    let _ = write!(
        out,
        r#","status":{{"phase":"Running","conditions":[{{"type":"PodReadyToStartContainers","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}}],"hostIP":"172.18.0.{}","podIP":"10.244.{}.{}","podIPs":[{{"ip":"10.244.1.7"}}],"startTime":"{t}","containerStatuses":[{{"name":"c0","state":{{"running":{{"startedAt":"{t}"}}}},"lastState":{{}},"ready":true,"restartCount":0,"image":"{}","imageID":"sha256:{:016x}{:016x}","containerID":"containerd://{:016x}{:016x}","started":true}}],"qosClass":"Burstable"}}"#,
        rng.below(250) + 2,
        rng.below(4),
        rng.below(250) + 2,
        IMAGES[rng.below(IMAGES.len())],
        rng.next(),
        rng.next(),
        rng.next(),
        rng.next()
    );
}

/// A strategic-merge patch as kubectl apply sends it.
fn patch(obj: &Obj, rng: &mut Rng) -> String {
    let mut applied = String::new();
    let _ = write!(
        applied,
        r#"{{"apiVersion":"{}","kind":"{}","metadata":{{"name":"{}","namespace":"{}"}},"spec":"#,
        obj.api_version, obj.kind, obj.name, obj.namespace
    );
    pod_spec(&mut applied, obj, rng);
    applied.push_str("}\n");
    let mut out = String::with_capacity(8 << 10);
    out.push_str(
        r#"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"#,
    );
    push_go_string(&mut out, &applied);
    out.push_str(r#"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c0"}],"containers":[{"image":""#);
    out.push_str(IMAGES[rng.below(IMAGES.len())]);
    out.push_str(r#"","name":"c0"}]}}}}"#);
    out
}

fn delete_options() -> String {
    r#"{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/__internal","propagationPolicy":"Background"}"#
        .into()
}

/// A list of the resource, items until the body is 8–46 KB.
fn list(obj: &Obj, rng: &mut Rng) -> String {
    let target = (8 << 10) + rng.below(LIST_MAX - (8 << 10));
    let mut out = String::with_capacity(LIST_MAX + (16 << 10));
    let _ = write!(
        out,
        r#"{{"kind":"{}List","apiVersion":"{}","metadata":{{"resourceVersion":"{}"}},"items":["#,
        obj.kind,
        obj.api_version,
        rng.below(90_000_000) + 10_000
    );
    let mut first = true;
    while out.len() < target {
        let item = object(obj, Detail::Server, rng);
        if !first && out.len() + item.len() > LIST_MAX {
            break;
        }
        if !first {
            out.push(',');
        }
        first = false;
        // Items of a list have no kind/apiVersion of their own.
        let start = item.find(r#""metadata":"#).unwrap_or(1);
        out.push('{');
        out.push_str(&item[start..]);
    }
    out.push_str("]}");
    out
}

/// An access review: small, with the decoy `verb`/`stage`/`requestURI`
/// keys inside the body that a first-match scanner would take.
fn review(obj: &Obj, response: bool) -> String {
    let mut out = format!(
        r#"{{"kind":"{}","apiVersion":"{}","metadata":{{"creationTimestamp":null}},"spec":{{"resourceAttributes":{{"namespace":"default","verb":"delete","group":"apps","resource":"deployments"}},"user":"jane","stage":"RequestReceived","requestURI":"/decoy"}},"status":{{"allowed":"#,
        obj.kind, obj.api_version
    );
    out.push_str(if response {
        r#"true,"reason":"RBAC: allowed by ClusterRoleBinding \"e2e\""}}"#
    } else {
        "false}}"
    });
    let _ = obj.resource;
    out
}

#[cfg(test)]
mod tests {
    use crate::{generate, GenOptions, Level, Shape};

    /// Every line is JSON; where a body is logged the line is 5–50 KB
    /// (except the small kinds: events, leases, reviews, delete options).
    #[test]
    fn large_bodies_are_json_and_large() {
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/swagger-mini.json"
        );
        let catalogue =
            apicov_core::spec::Catalogue::from_json(&std::fs::read(spec).unwrap(), "mini").unwrap();
        for level in [Level::Request, Level::RequestResponse] {
            let mut log = Vec::new();
            let options = GenOptions {
                shape: Shape::LargeBodies,
                ..GenOptions::new(11, 3 << 20, level)
            };
            generate(&catalogue, &options, &mut log);
            let (mut big_kinds, mut large) = (0, 0);
            for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let event: serde_json::Value = serde_json::from_slice(line).unwrap();
                assert!(line.len() <= 64 << 10, "{} bytes", line.len());
                let body = event.get("responseObject").or(event.get("requestObject"));
                let kind = body.and_then(|b| b["kind"].as_str()).unwrap_or("patch");
                if body.is_some()
                    && !["DeleteOptions", "Event", "Lease"].contains(&kind)
                    && !kind.ends_with("Review")
                {
                    big_kinds += 1;
                    large += usize::from(line.len() >= 5000);
                }
            }
            assert!(
                large * 10 >= big_kinds * 9 && big_kinds > 50,
                "{level:?}: {large} of {big_kinds} lines with a large kind's body >= 5 KB"
            );
        }
    }
}
