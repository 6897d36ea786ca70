//! Helpers of `ops_kubernetes`: the manifests of `deploy/kubernetes/` as JSON (PyYAML from the
//! kubernetes-validate virtualenv), the validator, and lookups into pod templates.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use security_scanner::config::{CliOverrides, Config};

use crate::batch_env::describe;

pub const DAILY_SCAN: &str = env!("CARGO_BIN_EXE_daily_scan");
pub const API_SERVER: &str = env!("CARGO_BIN_EXE_api_server");
/// The oldest Kubernetes the manifests are for: `backoffLimitPerIndex` is GA from 1.33.
pub const KUBERNETES_VERSION: &str = "1.33.0";
/// Made by `ensure_kubernetes_validate` in scripts/ensure-deps.sh.
pub const VENV: &str = "target/kubernetes-validate-venv";
pub const NAMESPACE: &str = "security-scanner";
/// The image name the manifests use and the kustomization's `images:` entry rewrites.
pub const IMAGE: &str = "security-scanner";

/// PyYAML (a dependency of kubernetes-validate) dumps YAML documents as one JSON array.
pub const YAML_TO_JSON: &str = "import json, sys, yaml\n\
    docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d is not None]\n\
    print(json.dumps(docs))";

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

/// The virtualenv's `bin/`, or `None` (a note) outside CI when scripts/test.sh has not made
/// it; under CI=true a missing validator fails the test.
pub fn venv_bin() -> Option<PathBuf> {
    let bin = root().join(VENV).join("bin");
    if bin.join("kubernetes-validate").is_file() && bin.join("python").is_file() {
        return Some(bin);
    }
    let message = format!(
        "kubernetes-validate not found in {VENV}: scripts/test.sh installs it \
         (ensure_kubernetes_validate in scripts/ensure-deps.sh)"
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}; with CI=true this fails");
    None
}

pub fn yaml_to_json(bin: &Path, files: &[PathBuf]) -> Vec<Value> {
    let out = Command::new(bin.join("python"))
        .args(["-c", YAML_TO_JSON])
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(docs) => docs,
        other => panic!("not a list: {other}"),
    }
}

pub fn kustomization(bin: &Path) -> Value {
    yaml_to_json(bin, &[dir().join("kustomization.yaml")]).remove(0)
}

/// The files `resources:` lists, as paths.
pub fn resource_files(kustomization: &Value) -> Vec<PathBuf> {
    kustomization["resources"]
        .as_array()
        .expect("resources: a list")
        .iter()
        .map(|r| dir().join(r.as_str().expect("a file name")))
        .collect()
}

/// Every resource of the kustomization, as written (namespace and image not yet applied).
pub fn manifests(bin: &Path) -> Vec<Value> {
    yaml_to_json(bin, &resource_files(&kustomization(bin)))
}

pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// `kubernetes-validate --strict` on `files`: each of the `documents` resources passed, and
/// nothing else was said (a kind without a schema is only a warning to it).
pub fn validate(bin: &Path, files: &[PathBuf], documents: usize) -> Result<(), String> {
    let out = Command::new(bin.join("kubernetes-validate"))
        .args(["--strict", "-k", KUBERNETES_VERSION])
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let passed = text
        .lines()
        .filter(|l| l.contains(" passed for resource "))
        .count();
    let complaints = text.lines().filter(|l| !l.starts_with("INFO ")).count();
    if out.status.success() && passed == documents && complaints == 0 {
        Ok(())
    } else {
        Err(format!(
            "{passed} of {documents} passed\n{}",
            describe(&out)
        ))
    }
}

/// The top-level fields of kustomize's `Kustomization` (kustomize v5, api/types).
pub const KUSTOMIZE_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "bases",
    "crds",
    "components",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

/// The pod template of a CronJob, Job or Deployment.
pub fn pod_spec(doc: &Value) -> Option<&Value> {
    let spec = match doc["kind"].as_str()? {
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "Deployment" | "Job" => &doc["spec"]["template"]["spec"],
        _ => return None,
    };
    Some(spec)
}

pub fn containers_of(doc: &Value) -> Vec<&Value> {
    pod_spec(doc)
        .map(|p| p["containers"].as_array().unwrap().iter().collect())
        .unwrap_or_default()
}

/// The value of environment variable `name` of `container`, as its manifest entry.
pub fn env<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
}

/// `container`'s command line: command then args.
pub fn command_line(container: &Value) -> Vec<String> {
    ["command", "args"]
        .iter()
        .flat_map(|k| container[k].as_array().cloned().unwrap_or_default())
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Every `--flag` and `-f` of `line` appears in `binary [sub-command] --help`.
pub fn flags_exist(binary: &str, line: &[String]) {
    let help = Command::new(binary).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in line.iter().filter(|w| w.starts_with('-')) {
        assert!(help.contains(flag.as_str()), "{binary} --help lacks {flag}");
    }
}

/// `"3h"`, `"90m"`, `"45s"` in seconds.
pub fn duration_seconds(text: &str) -> i64 {
    let (number, unit) = text.split_at(text.len() - 1);
    let n: i64 = number.parse().unwrap();
    n * match unit {
        "h" => 3600,
        "m" => 60,
        "s" => 1,
        other => panic!("unit {other}"),
    }
}

/// `container`'s variable `name` comes from a key the Secret has.
pub fn secret_ref(docs: &[Value], container: &Value, name: &str) {
    let r = &env(container, name).unwrap()["valueFrom"]["secretKeyRef"];
    let secret = find(docs, "Secret", r["name"].as_str().unwrap());
    let key = r["key"].as_str().unwrap();
    assert!(
        secret["stringData"][key].is_string(),
        "{name}: no key {key}"
    );
}

/// Where `container` mounts the pod volume `volume`.
pub fn mount_of(doc: &Value, container: &Value, volume: &str) -> String {
    container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume)
        .and_then(|m| m["mountPath"].as_str())
        .unwrap_or_else(|| panic!("{}: {volume} not mounted", doc["metadata"]["name"]))
        .to_string()
}

/// The pod volume mounted at `path` by `container`.
pub fn volume_at<'a>(doc: &'a Value, container: &Value, path: &str) -> &'a Value {
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == path)
        .unwrap_or_else(|| panic!("{}: nothing mounted at {path}", doc["metadata"]["name"]));
    pod_spec(doc).unwrap()["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap()
}

pub fn config_map(docs: &[Value]) -> &Value {
    find(docs, "ConfigMap", "security-scanner-config")
}

/// The ConfigMap's config.toml, loaded as the pods load it (their environment applied).
pub fn pod_config(docs: &[Value], env: &[(&str, &str)]) -> Result<Config, String> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.toml");
    std::fs::write(
        &path,
        config_map(docs)["data"]["config.toml"].as_str().unwrap(),
    )
    .unwrap();
    let cli = CliOverrides {
        config: Some(path),
        ..CliOverrides::default()
    };
    Config::load_with(&cli, |key| {
        env.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    })
    .map_err(|e| e.to_string())
}
