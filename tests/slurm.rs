//! Sweeps on a real Slurm: a one-node cluster of the test's own. It writes
//! a slurm.conf into a temporary folder (its own ports, state and spool
//! folders, a munge socket of its own), starts `munged -F`, `slurmctld -D`
//! and `slurmd -D` in the foreground, so that their pids are the test's, and
//! stops them by pid at the end, never by name. Then it runs
//! `deploy/slurm/sweep.sbatch` as a job array, cancels one task mid-run,
//! resubmits that task alone, and compares the sweep with one process's.
//!
//! Where Debian's `slurmctld slurmd slurm-client munge` are missing, or the
//! cluster cannot start (not root), the test says why and passes, unless
//! `ACTLAB_REQUIRE_SLURM=1` (CI, which installs them).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{needed_or_skip, path_str, repo_root, send_signal, train_ok};
use crate::sweep::{completions, results};

/// The programs the cluster needs.
const PROGRAMS: [&str; 7] = [
    "munged",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "scancel",
    "scontrol",
];

/// A one-node cluster: its folder and its three daemons.
struct Cluster {
    dir: tempfile::TempDir,
    daemons: Vec<(&'static str, Child)>,
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

impl Cluster {
    /// Starts the cluster, or says why it cannot here.
    fn start() -> Result<Self, String> {
        if let Some(missing) = PROGRAMS.iter().find(|name| !on_path(name)) {
            return Err(format!(
                "no {missing} on PATH (Debian: apt-get install slurmctld slurmd slurm-client munge)"
            ));
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&root.stdout).trim() != "0" {
            return Err("the one-node cluster runs its daemons as root (SlurmUser=root)".into());
        }
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        for folder in ["munge", "state", "spool", "log"] {
            fs::create_dir(at(folder)).unwrap();
        }
        let key = at("munge/munge.key");
        let mut random = vec![0u8; 1024];
        std::io::Read::read_exact(&mut fs::File::open("/dev/urandom").unwrap(), &mut random)
            .unwrap();
        fs::write(&key, &random).unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).unwrap();
        let socket = at("munge/munge.socket");
        let conf = at("slurm.conf");
        let show = |path: PathBuf| path.display().to_string();
        fs::write(
            &conf,
            format!(
                "ClusterName=actlab\n\
                 SlurmctldHost=localhost(127.0.0.1)\n\
                 SlurmUser=root\nSlurmdUser=root\n\
                 SlurmctldPort={}\nSlurmdPort={}\n\
                 AuthType=auth/munge\nAuthInfo=socket={}\nCredType=cred/munge\n\
                 StateSaveLocation={}\nSlurmdSpoolDir={}\n\
                 SlurmctldPidFile={}\nSlurmdPidFile={}\n\
                 SlurmctldLogFile={}\nSlurmdLogFile={}\n\
                 ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n\
                 SchedulerType=sched/builtin\n\
                 JobAcctGatherType=jobacct_gather/none\n\
                 AccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\n\
                 MpiDefault=none\nReturnToService=2\n\
                 NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN\n\
                 PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
                free_port(),
                free_port(),
                show(socket.clone()),
                show(at("state")),
                show(at("spool")),
                show(at("slurmctld.pid")),
                show(at("slurmd.pid")),
                show(at("log/slurmctld.log")),
                show(at("log/slurmd.log")),
            ),
        )
        .unwrap();
        let mut cluster = Self {
            dir,
            daemons: Vec::new(),
        };
        let logs = cluster.path("log");
        let log = move |name: &str| fs::File::create(logs.join(format!("{name}.out"))).unwrap();
        let munged = Command::new("munged")
            .args(["-F", "-f"])
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!(
                "--pid-file={}",
                cluster.path("munge/munged.pid").display()
            ))
            .arg(format!(
                "--log-file={}",
                cluster.path("log/munged.log").display()
            ))
            .arg(format!(
                "--seed-file={}",
                cluster.path("munge/munged.seed").display()
            ))
            .stdout(log("munged"))
            .stderr(log("munged-err"))
            .spawn()
            .map_err(|e| format!("cannot start munged: {e}"))?;
        cluster.daemons.push(("munged", munged));
        cluster.wait("munge's socket", 20, |c| {
            c.path("munge/munge.socket").exists()
        })?;
        for (name, args) in [
            ("slurmctld", vec!["-D"]),
            ("slurmd", vec!["-D", "-N", "localhost"]),
        ] {
            let child = cluster
                .command(name)
                .args(args)
                .stdout(log(name))
                .stderr(log(&format!("{name}-err")))
                .spawn()
                .map_err(|e| format!("cannot start {name}: {e}"))?;
            cluster.daemons.push((name, child));
        }
        cluster.wait("the node to be idle", 60, |c| {
            c.output(c.command("sinfo").args(["-h", "-o", "%T"])).trim() == "idle"
        })?;
        Ok(cluster)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A Slurm command of this cluster (its slurm.conf).
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", self.path("slurm.conf"));
        command
    }

    fn output(&self, command: &mut Command) -> String {
        command
            .stderr(Stdio::null())
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Polls `done` (every 100 ms, `seconds` at most); the daemons' logs on failure.
    fn wait(&self, what: &str, seconds: u64, done: impl Fn(&Self) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while !done(self) {
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}; {}", self.logs()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// The tails of the daemons' logs.
    fn logs(&self) -> String {
        let mut text = String::new();
        for name in [
            "munged.log",
            "slurmctld.log",
            "slurmd.log",
            "slurmctld-err.out",
            "slurmd-err.out",
        ] {
            let log = fs::read_to_string(self.path(&format!("log/{name}"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            text.push_str(&format!(
                "\n--- {name}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        text
    }

    /// `JobState` and `ExitCode` of array task `job`_`task`.
    fn task_state(&self, job: &str, task: usize) -> (String, String) {
        let shown =
            self.output(
                self.command("scontrol")
                    .args(["show", "job", &format!("{job}_{task}")]),
            );
        let field = |key: &str| {
            shown
                .split_whitespace()
                .find_map(|word| word.strip_prefix(key))
                .unwrap_or_default()
                .to_string()
        };
        (field("JobState="), field("ExitCode="))
    }

    /// Waits until no task of `job` is queued or running.
    fn wait_for_job(&self, job: &str) {
        self.wait(&format!("job {job} to end"), 180, |c| {
            c.output(c.command("squeue").args(["-h", "-j", job]))
                .trim()
                .is_empty()
        })
        .unwrap();
    }

    /// `sbatch` of the sweep script as array `tasks` (each task one CPU, so
    /// that two run at once on the two cores); the job id.
    fn submit(&self, tasks: &str, sweep: &Path, out: &Path, shards: usize) -> String {
        let output = self
            .command("sbatch")
            .args([
                "--parsable",
                &format!("--array={tasks}"),
                "--cpus-per-task=1",
            ])
            .arg(format!("--chdir={}", self.dir.path().display()))
            .arg(format!(
                "--output={}",
                self.path("task-%A_%a.log").display()
            ))
            .arg(format!(
                "--export=ALL,TRAIN={}",
                env!("CARGO_BIN_EXE_train")
            ))
            .arg(repo_root().join("deploy/slurm/sweep.sbatch"))
            .args([path_str(sweep), path_str(out), &shards.to_string()])
            .output()
            .unwrap();
        let job = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(
            output.status.success() && !job.is_empty(),
            "sbatch: {}{}",
            String::from_utf8_lossy(&output.stderr),
            self.logs()
        );
        job
    }

    fn task_log(&self, job: &str, task: usize) -> String {
        fs::read_to_string(self.path(&format!("task-{job}_{task}.log"))).unwrap_or_default()
    }
}

impl Drop for Cluster {
    /// Cancels what is left, then stops the daemons it started, by pid.
    fn drop(&mut self) {
        let _ = self.command("scancel").args(["--user", "root"]).status();
        for (_, child) in self.daemons.iter_mut().rev() {
            send_signal(child, "-TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_sweep_as_a_real_slurm_array_with_a_task_cancelled_and_resubmitted() {
    let Some(cluster) = needed_or_skip("ACTLAB_REQUIRE_SLURM", "the Slurm test", Cluster::start())
    else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // 12 points on the circle, about half a second each: 4 per task.
    let sweep = work.path().join("sweep.toml");
    fs::write(
        &sweep,
        format!(
            "base = \"{}\"\n[axes]\n\"model.activation\" = [\"identity\", \"relu\"]\n\
             \"training.lr\" = [0.01, 0.03]\nseed = [0, 1, 2]\n\"training.epochs\" = [300]\n",
            repo_root().join("config/circle.toml").display()
        ),
    )
    .unwrap();
    let single = work.path().join("single");
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&single)]);
    let reference = results(&single);
    assert_eq!(reference.len(), 12);

    let out = work.path().join("slurm");
    let job = cluster.submit("0-2", &sweep, &out, 3);
    // Task 2 waits for a free core; cancel it once it has started a point.
    cluster
        .wait("task 2 to run", 120, |c| {
            c.task_state(&job, 2).0 == "RUNNING" && out.join("points").is_dir()
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let cancelled = cluster
        .command("scancel")
        .arg(format!("{job}_2"))
        .status()
        .unwrap();
    assert!(cancelled.success());
    cluster.wait_for_job(&job);
    for task in 0..2 {
        assert_eq!(
            cluster.task_state(&job, task),
            ("COMPLETED".to_string(), "0:0".to_string()),
            "task {task}: {}",
            cluster.task_log(&job, task)
        );
        let log = cluster.task_log(&job, task);
        assert!(
            log.contains("sweep of 12 points; shard ")
                && log.contains("4 points: 0 done before, 4 finished now")
                && log.contains(" 0 failed"),
            "task {task}: {log}"
        );
    }
    let (state, _) = cluster.task_state(&job, 2);
    assert_eq!(state, "CANCELLED", "{}", cluster.task_log(&job, 2));

    // Task 2 alone, with the array's size: it takes its own shard again.
    let again = cluster.submit("2", &sweep, &out, 3);
    cluster.wait_for_job(&again);
    assert_eq!(
        cluster.task_state(&again, 2),
        ("COMPLETED".to_string(), "0:0".to_string()),
        "{}",
        cluster.task_log(&again, 2)
    );
    let log = cluster.task_log(&again, 2);
    assert!(
        log.contains("shard 2/3 takes 4") && log.contains(" 0 failed"),
        "{log}"
    );

    let report = train_ok(["sweep", "report", path_str(&out)]);
    assert!(
        String::from_utf8_lossy(&report.stdout)
            .starts_with("12 points: 12 done (0 diverged), 0 missing"),
        "{}",
        String::from_utf8_lossy(&report.stdout)
    );
    assert_eq!(
        results(&out),
        reference,
        "Slurm's sweep equals one process's, point for point"
    );
    let counts = completions(&out);
    assert_eq!(counts.len(), 12);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}
