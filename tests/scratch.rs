use train::backend::{Backend, BackendKind};
use train::config::RunConfig;
use train::data;
use train::init::initial_weights;
use train::trainer::Trainer;

#[test]
fn scratch_resume() {
    let config = RunConfig::default();
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let split = data::load(&config.data, config.seed).unwrap();
    let weights = initial_weights(&config.layer_sizes(), config.seed);
    let mk = || { let mut t = Trainer::new(&config, &backend, &split, &weights).unwrap(); for _ in 0..100 { t.run_epoch().unwrap(); } t };
    let mut a = mk();
    let mut m = mk(); m.scratch_rebuild_model(&config, &backend);
    let mut o = mk(); o.scratch_reload_optimizer();
    for e in 0..5 {
        let ra = a.run_epoch().unwrap(); let rm = m.run_epoch().unwrap(); let ro = o.run_epoch().unwrap();
        eprintln!("epoch {e}: straight {} model-rebuilt {} optimizer-reloaded {}", ra.loss, rm.loss, ro.loss);
    }
}
