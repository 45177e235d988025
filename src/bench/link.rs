//! The link between primary and backup in an experiment: loopback, or a
//! shaped link with added latency and a bandwidth cap.
//!
//! Shaping prefers a network-namespace pair: the experiment creates a
//! namespace with a veth pair to the host's namespace, puts `tc netem`
//! (delay, rate) on both ends, runs the backup inside the namespace, and
//! deletes the namespace (and with it the veth pair and qdiscs) when done —
//! on drop, and on Ctrl-C/SIGTERM through [`install_cleanup`]. A kernel
//! without netem gets `tc tbf` for the bandwidth cap and an in-process
//! proxy that delays every chunk for the latency; without the privileges
//! for a namespace, only the proxy (latency, no bandwidth cap).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Namespaces alive now and their host-side veth ends, deleted by the
/// Ctrl-C handler.
static NAMESPACES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Set by the Ctrl-C handler before it cleans up.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// On Ctrl-C or SIGTERM: delete the experiment's namespaces and exit 130.
/// (Replicas and guests die with us: see [`crate::bench::dies_with_us`].)
pub fn install_cleanup() {
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        for (ns, outer_dev) in NAMESPACES.lock().map(|v| v.clone()).unwrap_or_default() {
            // The kernel removes a deleted namespace's veth pair only later;
            // delete the host end now so nothing is left when we exit.
            let _ = ip(&["link", "del", &outer_dev]);
            let _ = ip(&["netns", "del", &ns]);
        }
        eprintln!("hbft bench: interrupted; namespaces removed");
        std::process::exit(130);
    });
}

/// An experiment failed: if that is because Ctrl-C killed its replicas,
/// waits for the handler to finish cleaning up and exit 130, so that the
/// exit status says "interrupted" rather than the replicas' failure.
pub fn await_interrupt_exit() {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// How the shaped links of one experiment are made.
pub struct Shaper {
    netns: Option<Netns>,
    /// Whether the kernel has netem (else latency comes from the proxy).
    netem: bool,
}

impl Shaper {
    /// A namespace pair if we may create one (with netem if the kernel
    /// has it), else the delaying proxy alone.
    pub fn new() -> Shaper {
        match Netns::create() {
            Ok(ns) => {
                let netem = ns.qdisc(&["netem", "delay", "0us"]).is_ok();
                Shaper { netns: Some(ns), netem }
            }
            Err(_) => Shaper { netns: None, netem: false },
        }
    }

    pub fn describe(&self) -> &'static str {
        match (&self.netns, self.netem) {
            (Some(_), true) => "tc netem (delay, rate) on a veth pair into a network namespace the experiment creates and removes",
            (Some(_), false) => {
                "latency: an in-process proxy delaying each chunk (this kernel has no sch_netem); bandwidth: tc tbf on a veth pair \
                 into a network namespace the experiment creates and removes"
            }
            (None, _) => "an in-process proxy delaying each chunk (no network namespace: latency only, no bandwidth cap)",
        }
    }

    /// Whether a bandwidth cap can be applied.
    pub fn caps_bandwidth(&self) -> bool {
        self.netns.is_some()
    }

    /// Sets the shaped link to `delay` each way and, if given, `rate_kbit`.
    /// Returns the link to run replicas over.
    pub fn shape(&self, delay: Duration, rate_kbit: Option<u64>) -> anyhow::Result<Link> {
        let Some(ns) = &self.netns else {
            if rate_kbit.is_some() {
                bail!("the proxy cannot cap bandwidth");
            }
            return Ok(Link { netns: None, proxy_delay: Some(delay) });
        };
        let rate = rate_kbit.map(|r| format!("{r}kbit"));
        let delay_arg = format!("{}us", delay.as_micros());
        let mut proxy_delay = None;
        if self.netem {
            let mut args = vec!["netem", "delay", &delay_arg];
            if let Some(rate) = &rate {
                args.extend(["rate", rate]);
            }
            ns.qdisc(&args)?;
        } else {
            match &rate {
                Some(rate) => ns.qdisc(&["tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"])?,
                None => ns.clear_qdisc(),
            }
            proxy_delay = (delay > Duration::ZERO).then_some(delay);
        }
        Ok(Link { netns: Some((ns.name.clone(), ns.inner_addr())), proxy_delay })
    }
}

/// Where the backup listens and how the primary reaches it.
#[derive(Clone, Default)]
pub struct Link {
    /// The backup runs in this namespace, listening on this address.
    netns: Option<(String, String)>,
    /// The primary connects through a proxy delaying each direction.
    proxy_delay: Option<Duration>,
}

impl Link {
    /// Both replicas on loopback.
    pub const LOOPBACK: Link = Link { netns: None, proxy_delay: None };

    /// The command that runs the backup: `hbft` itself, or `ip netns exec NS hbft`.
    pub fn backup_command(&self, exe: &std::path::Path) -> Command {
        match &self.netns {
            Some((name, _)) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", name]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    /// The address the backup listens on (port 0: any free port).
    pub fn listen_addr(&self) -> String {
        match &self.netns {
            Some((_, addr)) => format!("{addr}:0"),
            None => "127.0.0.1:0".to_string(),
        }
    }

    /// The address the primary connects to, given the backup's.
    pub fn connect_addr(&self, backup: String) -> anyhow::Result<String> {
        match self.proxy_delay {
            Some(delay) => delaying_proxy(backup, delay),
            None => Ok(backup),
        }
    }
}

/// A network namespace with a veth pair to ours; deleted on drop.
pub struct Netns {
    name: String,
    outer_dev: String,
    inner_dev: String,
    subnet: u32,
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip").args(args).output().context("cannot run ip")?;
    if !out.status.success() {
        bail!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn tc(args: &[String]) -> anyhow::Result<()> {
    let out = Command::new("tc").args(args).output().context("cannot run tc")?;
    if !out.status.success() {
        bail!("tc {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

impl Netns {
    fn create() -> anyhow::Result<Netns> {
        let pid = std::process::id();
        // 10.213.S.0/30 with S from the pid: concurrent experiments differ.
        let subnet = pid % 250 + 1;
        let ns = Netns {
            name: format!("hbft-bench-{pid}"),
            outer_dev: format!("hbb{pid}o"),
            inner_dev: format!("hbb{pid}i"),
            subnet,
        };
        ip(&["netns", "add", &ns.name])?;
        NAMESPACES.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push((ns.name.clone(), ns.outer_dev.clone()));
        // From here on, drop removes what was made.
        let outer_addr = format!("10.213.{subnet}.1/30");
        let inner_addr = format!("{}/30", ns.inner_addr());
        ip(&["link", "add", &ns.outer_dev, "type", "veth", "peer", "name", &ns.inner_dev, "netns", &ns.name])?;
        ip(&["addr", "add", &outer_addr, "dev", &ns.outer_dev])?;
        ip(&["link", "set", &ns.outer_dev, "up"])?;
        ip(&["-n", &ns.name, "addr", "add", &inner_addr, "dev", &ns.inner_dev])?;
        ip(&["-n", &ns.name, "link", "set", &ns.inner_dev, "up"])?;
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    fn inner_addr(&self) -> String {
        format!("10.213.{}.2", self.subnet)
    }

    /// The root qdisc `args` on both ends of the veth pair.
    fn qdisc(&self, args: &[&str]) -> anyhow::Result<()> {
        for (netns, dev) in [(None, &self.outer_dev), (Some(&self.name), &self.inner_dev)] {
            let mut full: Vec<String> = Vec::new();
            if let Some(ns) = netns {
                full.extend(["-n".to_string(), ns.clone()]);
            }
            full.extend(["qdisc", "replace", "dev", dev, "root"].map(String::from));
            full.extend(args.iter().map(|a| a.to_string()));
            tc(&full)?;
        }
        Ok(())
    }

    /// Back to the default qdisc on both ends (none set is fine).
    fn clear_qdisc(&self) {
        for (netns, dev) in [(None, &self.outer_dev), (Some(&self.name), &self.inner_dev)] {
            let mut full: Vec<String> = Vec::new();
            if let Some(ns) = netns {
                full.extend(["-n".to_string(), ns.clone()]);
            }
            full.extend(["qdisc", "del", "dev", dev, "root"].map(String::from));
            let _ = tc(&full);
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes the veth pair and its qdiscs.
        let _ = ip(&["link", "del", &self.outer_dev]);
        let _ = ip(&["netns", "del", &self.name]);
        if let Ok(mut v) = NAMESPACES.lock() {
            v.retain(|(n, _)| n != &self.name);
        }
    }
}

/// Relays TCP connections to `target`, delaying every chunk by `delay` in
/// each direction. Returns the address to connect to.
fn delaying_proxy(target: String, delay: Duration) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(server) = TcpStream::connect(&target) else { continue };
            for (from, to) in [(&client, &server), (&server, &client)] {
                let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else { continue };
                pump(from, to, delay);
            }
        }
    });
    Ok(addr)
}

/// Copies `from` to `to`, each chunk released `delay` after it was read.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let _ = to.set_nodelay(true);
        for (due, chunk) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}
