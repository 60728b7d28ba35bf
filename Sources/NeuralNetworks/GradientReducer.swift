import TensorEngine

/// How the replicas of a data-parallel run combine their work. Each replica computes the
/// gradient of its shard of the global batch; the reducer makes every replica's gradients the
/// gradient of the whole global batch, so every replica applies the same optimizer step.
/// The single-process trainer uses `LocalReducer`, for which all of this is a no-op; the ring
/// all-reduce over ZeroMQ implements it in `DataParallel`. There is one trainer, not two.
///
/// Calls come in this order each step: `beginStep`, `gradientReady` (from inside backward, once
/// per parameter whose gradient is final), `finishStep`, `sum`, `parametersUpdated`.
public protocol GradientReducer: AnyObject {
    /// This replica's index, 0..<worldSize. Rank 0 reports progress and writes checkpoints.
    var rank: Int { get }
    var worldSize: Int { get }
    /// Before backward. `weight` is this replica's share of the global batch (its examples over
    /// the global count): its mean-loss gradient times `weight`, summed over replicas, is the
    /// global batch's mean-loss gradient whatever the shard sizes.
    func beginStep(parameters: [(String, Tensor)], weight: Float) throws
    /// Called during backward when no op will add to `parameter.grad` again.
    func gradientReady(_ parameter: Tensor)
    /// After backward: every parameter's gradient is the weighted sum over replicas.
    func finishStep() throws
    /// Sums a few numbers over replicas (the step's loss and counts, for reports).
    func sum(_ values: [Float]) throws -> [Float]
    /// After the optimizer step `iteration` (0: before the first): replicas may check that
    /// their parameters are still identical, and stop with an error if not.
    func parametersUpdated(_ parameters: [(String, Tensor)], iteration: Int) throws
    /// Replaces each buffer with its mean over replicas (batch-norm running statistics, which
    /// every replica gathers on its own shard), at the end of each epoch.
    func averageBuffers(_ buffers: [(String, Tensor)]) throws
    /// Seconds this replica's sums have been in progress so far (communication and the peers'
    /// share of it, whether or not the trainer was waiting); 0 for one process. Against the
    /// trainer's own wait (`Trainer.networkWaitSeconds`) it shows how much backward hid.
    var communicationSeconds: Double { get }
}

extension GradientReducer {
    public var communicationSeconds: Double { 0 }
}

/// One process: its gradient is already the global batch's.
public final class LocalReducer: GradientReducer {
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public func beginStep(parameters: [(String, Tensor)], weight: Float) throws {}
    public func gradientReady(_ parameter: Tensor) {}
    public func finishStep() throws {}
    public func sum(_ values: [Float]) throws -> [Float] { values }
    public func parametersUpdated(_ parameters: [(String, Tensor)], iteration: Int) throws {}
    public func averageBuffers(_ buffers: [(String, Tensor)]) throws {}
}
