//! The global scan limit under concurrent requests, and the nmap timeout, through the real
//! server. nmap is a wrapper (fault injection: it sleeps, or hangs) around the real nmap.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::listen;
use crate::support::server::{
    Server, children_matching, logged_scans, logging_nmap, processes_matching, script,
};

#[test]
fn never_more_than_max_concurrent_nmap_processes_and_health_stays_responsive() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("scans.log");
    let nmap = logging_nmap(dir.path(), &log, 1.0);
    let ip = Ipv4Addr::new(127, 0, 4, 2);
    let listener = listen(ip);
    let port = listener.local_addr().unwrap().port();
    let nmap_path = format!("{:?}", nmap.display().to_string());
    let server = Arc::new(Server::start(&[
        ("nmap_path", &nmap_path),
        ("api.max_concurrent_scans", "2"),
        ("api.queue_timeout", "2"),
    ]));
    // Both the sleeping wrapper and the nmap it execs carry "-p <port> " in their argv.
    let needle = format!("-p {port} ");
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicUsize::new(0));
    let server_pid = server.pid();
    let sampler = {
        let (stop, peak, needle) = (stop.clone(), peak.clone(), needle.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let alive = children_matching(server_pid, &needle).len();
                peak.fetch_max(alive, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let health: Arc<Mutex<Vec<(u16, u64)>>> = Arc::default();
    let prober = {
        let (stop, health, server) = (stop.clone(), health.clone(), server.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let r = server.get("/api/health");
                let active = r.json()["active_scans"].as_u64().unwrap_or(u64::MAX);
                health.lock().unwrap().push((r.status, active));
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let server = server.clone();
            thread::spawn(move || {
                server.scan(&json!({"target": ip.to_string(), "scan_type": "quick",
                    "ports": port.to_string()}))
            })
        })
        .collect();
    let replies: Vec<_> = requests.into_iter().map(|h| h.join().unwrap()).collect();
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    prober.join().unwrap();

    let mut ok = 0;
    for r in &replies {
        match r.status {
            200 => {
                ok += 1;
                let result = &r.json()["results"][0];
                assert_eq!(result["status"], "completed", "{result}");
                assert_eq!(result["open_ports"][0]["port"], port);
            }
            503 => {
                assert_eq!(r.error().1, "no_capacity");
                assert!(r.header("Retry-After").is_some());
            }
            other => panic!("status {other}: {}", r.body),
        }
    }
    assert!(ok >= 2, "{ok} of 12 got capacity");
    assert_eq!(
        logged_scans(&log).len(),
        ok,
        "a refused request started nmap"
    );
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&peak),
        "{peak} nmap processes alive at once"
    );
    let health = health.lock().unwrap();
    assert!(
        health.iter().all(|(status, _)| *status == 200),
        "{health:?}"
    );
    assert!(
        health.iter().any(|(_, active)| *active == 2),
        "health never answered while both slots were busy: {health:?}"
    );
}

/// Whether `pid` is alive (not a zombie) and its argv contains `needle`.
fn alive(pid: u32, needle: &str) -> bool {
    processes_matching(needle).contains(&pid)
}

#[test]
fn a_hanging_nmap_is_killed_at_the_timeout_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let nmap = script(
        dir.path(),
        "hanging-nmap",
        &format!(
            "case \"$*\" in *--version*) exec /usr/bin/nmap --version ;; esac\n\
             trap '' TERM\n\
             sleep 1000 &\n\
             echo \"$$ $!\" > '{p}.tmp' && mv '{p}.tmp' '{p}'\n\
             wait",
            p = pids.display()
        ),
    );
    let nmap_path = format!("{:?}", nmap.display().to_string());
    let server = Server::start(&[("nmap_path", &nmap_path), ("nmap_timeout", "2")]);
    let reply = server.scan(&json!({"target": "127.0.4.3", "scan_type": "quick", "ports": "1"}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let r = &reply.json()["results"][0];
    assert_eq!(r["status"], "timeout", "{r}");
    assert!(r["error"].as_str().unwrap().contains("2 s"), "{r}");
    assert!(
        r.get("open_ports").is_none(),
        "a timeout is not 'no open ports'"
    );

    let text = std::fs::read_to_string(&pids).unwrap();
    let ids: Vec<u32> = text
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    let (shell, sleeper) = (ids[0], ids[1]);
    let until = Instant::now() + Duration::from_secs(5);
    while alive(shell, "hanging-nmap") || alive(sleeper, "sleep 1000") {
        assert!(
            Instant::now() < until,
            "the fake nmap or its child survived"
        );
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.get("/api/health").json()["active_scans"], 0);
}
