/// Told how far a pass over a dataset is: examples finished (of `total`) before each batch, then
/// `total` at the end. Called on the thread that evaluates; a command draws its progress bar with it.
public typealias ExampleProgress = (_ done: Int, _ total: Int) -> Void
