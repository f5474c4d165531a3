//! The only module that knows which Burn backends exist: it turns a name into
//! a [`Device`], or into an error that says what to do.

use std::fmt;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// A backend the user can ask for, whether or not this build has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// burn-ndarray on the CPU (deprecated upstream in favour of flex).
    Ndarray,
    /// burn-flex, Burn's pure-Rust CPU backend.
    Flex,
    /// burn-wgpu: Vulkan/Metal/DX12 GPUs, or lavapipe on a CPU-only machine.
    Wgpu,
}

impl BackendKind {
    /// Every backend, compiled in or not.
    pub const ALL: [BackendKind; 3] = [BackendKind::Ndarray, BackendKind::Flex, BackendKind::Wgpu];

    /// Its name on the command line and in feature lists.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether this build includes the backend (cargo feature of the same name).
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// The names every backend is asked for by.
    pub const NAMES: [&'static str; 3] = ["ndarray", "flex", "wgpu"];

    /// The backends this build includes.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL
            .into_iter()
            .filter(|kind| kind.is_compiled())
            .collect()
    }

    /// The backend used when `--backend` is not given: flex, the faster CPU
    /// backend on the seed workload (see BENCHMARKS.md), else whatever is in.
    pub fn default_for_build() -> Option<BackendKind> {
        [BackendKind::Flex, BackendKind::Ndarray, BackendKind::Wgpu]
            .into_iter()
            .find(|kind| kind.is_compiled())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = UserError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                UserError::new(format!(
                    "unknown backend `{name}` (one of {})",
                    Self::NAMES.join(", ")
                ))
            })
    }
}

/// Points Burn's default device at a CPU backend, unless `BURN_DEVICE` names a
/// backend this build has (the repository's `.cargo/config.toml` sets
/// `flex` for what cargo runs; a flex-less build replaces it).
///
/// Burn makes a few tensors on its default device, e.g. Adam's state restored
/// from a checkpoint, and that default is wgpu whenever wgpu is compiled in:
/// a CPU run would wake the GPU driver, or panic where there is none. The
/// state moves to the training device on the next step either way.
///
/// # Safety
///
/// Sets an environment variable: call it before any other thread starts.
pub unsafe fn pin_default_device_to_cpu() {
    let compiled = |name: &str| {
        BackendKind::compiled()
            .into_iter()
            .any(|kind| kind.name().eq_ignore_ascii_case(name))
    };
    if std::env::var("BURN_DEVICE").is_ok_and(|name| compiled(&name)) {
        return;
    }
    let cpu = [BackendKind::Flex, BackendKind::Ndarray]
        .into_iter()
        .find(|kind| kind.is_compiled());
    if let Some(kind) = cpu {
        // SAFETY: the caller guarantees no other thread reads the environment now.
        unsafe { std::env::set_var("BURN_DEVICE", kind.name()) };
    }
}

/// Gives the process a private `XDG_RUNTIME_DIR` when it has none (or one
/// that is not a directory): Mesa's Vulkan and GL drivers, which wgpu loads,
/// print `error: XDG_RUNTIME_DIR is invalid or not set` for every adapter
/// they probe without one, though nothing is wrong. The directory is
/// `$TMPDIR/activation-lab-runtime-UID`, mode 0700, as the XDG spec asks;
/// if it cannot be made safely the variable is left alone.
///
/// # Safety
///
/// Sets an environment variable: call it before any other thread starts.
#[cfg(all(unix, feature = "wgpu"))]
pub unsafe fn give_mesa_a_runtime_dir() {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let current = std::env::var_os("XDG_RUNTIME_DIR");
    if current.is_some_and(|dir| std::path::Path::new(&dir).is_dir()) {
        return;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("activation-lab-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let private = std::fs::symlink_metadata(&dir).is_ok_and(|meta| {
        meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o777 == 0o700
    });
    if private {
        // SAFETY: the caller guarantees no other thread reads the environment now.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

/// Without wgpu there is no Mesa to quiet.
///
/// # Safety
///
/// None needed; unsafe only to match the wgpu build's signature.
#[cfg(not(all(unix, feature = "wgpu")))]
pub unsafe fn give_mesa_a_runtime_dir() {}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An opened backend: its device and a human description of it.
#[derive(Clone, Debug)]
pub struct Backend {
    /// Which backend.
    pub kind: BackendKind,
    /// The device tensors are created on (without autodiff).
    pub device: Device,
    /// e.g. `CPU (flex)` or `llvmpipe (LLVM 15.0.6, 256 bits), Cpu, Vulkan`.
    pub description: String,
    /// The largest single buffer the device can hold, where the backend says
    /// (wgpu's adapter limits); a CPU backend is bounded by host memory only.
    pub max_buffer_bytes: Option<u64>,
    /// Whether wgpu found only a CPU driver (Mesa's lavapipe or llvmpipe):
    /// it trains correctly there, but far slower than flex.
    pub cpu_driver: bool,
}

/// How many times faster flex ran the seed than wgpu on Mesa's lavapipe,
/// side by side on one machine (BENCHMARKS.md, "wgpu on a CPU driver").
pub const FLEX_OVER_CPU_DRIVER: u32 = 65;

impl Backend {
    /// Opens `kind`, failing with a user error if it is not compiled in or,
    /// for wgpu, if no adapter can be had.
    pub fn open(kind: BackendKind) -> Result<Backend, UserError> {
        if !kind.is_compiled() {
            return Err(not_compiled(kind, &BackendKind::compiled()));
        }
        let opened = match kind {
            BackendKind::Ndarray => with_host_memory(open_ndarray()),
            BackendKind::Flex => with_host_memory(open_flex()),
            BackendKind::Wgpu => open_wgpu()?,
        };
        Ok(Backend {
            kind,
            device: opened.device,
            description: opened.description,
            max_buffer_bytes: opened.max_buffer_bytes,
            cpu_driver: opened.cpu_driver,
        })
    }

    /// One line for a user who asked for wgpu and got a CPU driver: the run
    /// works, and flex would be the faster choice on this machine.
    pub fn cpu_driver_note(&self) -> Option<String> {
        self.cpu_driver.then(|| {
            format!(
                "note: wgpu found no GPU, only the CPU driver {}; it trains correctly, but flex is ~{FLEX_OVER_CPU_DRIVER}x faster here (--backend flex)",
                self.description
            )
        })
    }

    /// Opens `kind`, or the build's default backend when `None`.
    pub fn open_or_default(kind: Option<BackendKind>) -> Result<Backend, UserError> {
        match kind.or_else(BackendKind::default_for_build) {
            Some(kind) => Self::open(kind),
            None => Err(UserError::new(
                "this build has no backend; rebuild with --features flex",
            )),
        }
    }

    /// The device with autodiff enabled, for training.
    pub fn autodiff_device(&self) -> Device {
        self.device.clone().autodiff()
    }
}

/// How many runs train at once by default: one per core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Sizes the CPU backend's thread pool to a `1 / jobs` share of the cores
/// when `jobs` runs train at once in this process (`compare --jobs`), so
/// that they do not each start a pool as large as the machine. Leaves the
/// pool alone when `RAYON_NUM_THREADS` says otherwise or it already runs.
pub fn share_cpu_threads(jobs: usize) {
    #[cfg(feature = "flex-rayon")]
    if jobs > 1 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = (cores() / jobs).max(1);
        // An error means the pool already runs: nothing to do then.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
    #[cfg(not(feature = "flex-rayon"))]
    let _ = jobs;
}

/// A CPU device, where this build has a CPU backend: figures evaluate
/// trained networks there in float64, whatever device trained them.
pub fn cpu_device() -> Option<Device> {
    if BackendKind::Flex.is_compiled() {
        Some(open_flex().0)
    } else if BackendKind::Ndarray.is_compiled() {
        Some(open_ndarray().0)
    } else {
        None
    }
}

/// The error for a backend this build lacks.
fn not_compiled(kind: BackendKind, available: &[BackendKind]) -> UserError {
    let available: Vec<&str> = available.iter().map(|k| k.name()).collect();
    let available = if available.is_empty() {
        "none".to_string()
    } else {
        available.join(", ")
    };
    UserError::new(format!(
        "backend `{kind}` is not compiled into this build (available: {available}); rebuild with `--features {kind}`"
    ))
}

#[cfg(feature = "ndarray")]
fn open_ndarray() -> (Device, String) {
    // burn-ndarray is deprecated in Burn 0.22 (flex succeeds it); we keep it
    // for comparison and parity checks.
    #[allow(deprecated)]
    let device = Device::ndarray();
    let description = if cfg!(feature = "openblas") {
        "CPU (ndarray + OpenBLAS)"
    } else {
        "CPU (ndarray)"
    };
    (device, description.into())
}

#[cfg(not(feature = "ndarray"))]
fn open_ndarray() -> (Device, String) {
    unreachable!("checked by BackendKind::is_compiled")
}

#[cfg(feature = "flex")]
fn open_flex() -> (Device, String) {
    (Device::flex(), "CPU (flex)".into())
}

#[cfg(not(feature = "flex"))]
fn open_flex() -> (Device, String) {
    unreachable!("checked by BackendKind::is_compiled")
}

/// What opening a backend found out about its device.
#[derive(Clone)]
struct Opened {
    device: Device,
    description: String,
    max_buffer_bytes: Option<u64>,
    cpu_driver: bool,
}

/// A CPU backend's device: no buffer limit beyond host memory.
fn with_host_memory((device, description): (Device, String)) -> Opened {
    Opened {
        device,
        description,
        max_buffer_bytes: None,
        cpu_driver: false,
    }
}

/// The error for a machine where wgpu finds no adapter at all: which Debian
/// packages give it Mesa's CPU driver (the Vulkan loader too, when
/// `libvulkan.so.1` itself is missing), or flex.
#[cfg(any(test, feature = "wgpu"))]
fn no_adapter(cause: &str, vulkan_loader: bool) -> String {
    let packages = if vulkan_loader {
        "mesa-vulkan-drivers"
    } else {
        "libvulkan1 mesa-vulkan-drivers"
    };
    format!(
        "wgpu found no GPU and no CPU driver ({cause}); install one (Debian: apt-get install {packages}) or use --backend flex"
    )
}

/// Whether the Vulkan loader library can be loaded at all.
#[cfg(all(unix, feature = "wgpu"))]
fn vulkan_loader_present() -> bool {
    // SAFETY: dlopen with a constant, NUL-terminated name; a handle it
    // returns is closed at once and never used.
    unsafe {
        let handle = libc::dlopen(
            c"libvulkan.so.1".as_ptr(),
            libc::RTLD_LAZY | libc::RTLD_LOCAL,
        );
        if handle.is_null() {
            return false;
        }
        libc::dlclose(handle);
    }
    true
}

#[cfg(all(not(unix), feature = "wgpu"))]
fn vulkan_loader_present() -> bool {
    true
}

#[cfg(feature = "wgpu")]
fn open_wgpu() -> Result<Opened, UserError> {
    use std::sync::OnceLock;

    // wgpu's runtime can be initialised once per process; later opens reuse it.
    static WGPU: OnceLock<Result<Opened, String>> = OnceLock::new();
    WGPU.get_or_init(|| {
        let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|error| {
            no_adapter(
                &error.to_string().replace('\n', " "),
                vulkan_loader_present(),
            )
        })?;
        let info = setup.adapter.get_info();
        let description = format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend);
        let limits = setup.adapter.limits();
        let max_buffer = limits
            .max_buffer_size
            .min(limits.max_storage_buffer_binding_size);
        Ok(Opened {
            device,
            description,
            max_buffer_bytes: Some(max_buffer),
            cpu_driver: info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu,
        })
    })
    .clone()
    .map_err(UserError::new)
}

#[cfg(not(feature = "wgpu"))]
fn open_wgpu() -> Result<Opened, UserError> {
    unreachable!("checked by BackendKind::is_compiled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_backend_says_what_is_there_and_how_to_get_it() {
        let error = not_compiled(BackendKind::Wgpu, &[BackendKind::Flex]);
        assert_eq!(
            error.to_string(),
            "backend `wgpu` is not compiled into this build (available: flex); rebuild with `--features wgpu`"
        );
    }

    #[test]
    fn no_adapter_names_the_packages_to_install() {
        assert_eq!(
            no_adapter("no adapter", true),
            "wgpu found no GPU and no CPU driver (no adapter); install one (Debian: apt-get install mesa-vulkan-drivers) or use --backend flex"
        );
        assert!(
            no_adapter("no adapter", false)
                .contains("apt-get install libvulkan1 mesa-vulkan-drivers)")
        );
    }

    #[test]
    fn the_compiled_list_follows_the_features() {
        for kind in BackendKind::ALL {
            assert_eq!(BackendKind::compiled().contains(&kind), kind.is_compiled());
            if !kind.is_compiled() {
                assert!(Backend::open(kind).is_err());
            }
        }
        assert!(BackendKind::default_for_build().is_some_and(BackendKind::is_compiled));
    }

    #[test]
    fn every_backend_is_asked_for_by_its_own_name() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>().unwrap(), kind);
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(
            "cuda".parse::<BackendKind>().unwrap_err().to_string(),
            "unknown backend `cuda` (one of ndarray, flex, wgpu)"
        );
    }
}
