"""PyTorch definitions of the rt model zoo, the reference the Swift engine is tested against.

state_dict names equal the Swift engine's parameter names exactly (torchvision
naming for the ResNets). Every model is Normalize(mean, std) followed by the
network; Normalize holds no state_dict entries (its buffers are not
persistent), so inputs stay NCHW in [0, 1] and attack budgets are in pixels.

Each model returns logits from forward(); features(x) returns the penultimate
features (what the fc layer sees), which DM fine-tuning and the analyses use.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# Normalisation recorded in checkpoints and golden files when none is given.
# Distinct per-channel values catch channel-order mistakes.
DEFAULT_MEAN_STD = {
    1: ([0.5], [0.25]),
    3: ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),  # CIFAR-10
}
IMAGENET_MEAN_STD = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

DEFAULT_INPUT_SHAPE = {
    "small-cnn": (1, 28, 28),
    "resnet8": (3, 32, 32),
    "resnet20": (3, 32, 32),
    "resnet18-cifar": (3, 32, 32),
    "resnet18": (3, 224, 224),
}


class Normalize(nn.Module):
    """(x - mean) / std per channel; x is (N, C, H, W)."""

    def __init__(self, mean, std):
        super().__init__()
        if len(mean) != len(std):
            raise ValueError(f"Normalize: mean has {len(mean)} channels, std has {len(std)}")
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, x):
        return (x - self.mean) / self.std


class SmallCNN(nn.Module):
    """conv(32) relu pool2, conv(64) relu pool2, flatten (C,H,W), fc 128, relu, fc classes."""

    def __init__(self, num_classes=10, input_shape=(1, 28, 28), mean=None, std=None):
        super().__init__()
        c, h, w = input_shape
        mean, std = _mean_std(c, mean, std)
        self.normalize = Normalize(mean, std)
        self.conv1 = nn.Conv2d(c, 32, 3, padding=1, bias=True)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=True)
        # Two floor-mode 2x2 pools: 28 -> 14 -> 7; an odd size drops its last row/column.
        self.fc1 = nn.Linear(64 * (h // 2 // 2) * (w // 2 // 2), 128)
        self.fc2 = nn.Linear(128, num_classes)
        # Stateless layers are modules (not F.* calls) so golden.py can hook every
        # ReLU and max-pool; they add nothing to the state_dict.
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def features(self, x):
        x = self.normalize(x)
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # (N, C*H*W), C slowest
        return self.relu(self.fc1(x))

    def forward(self, x):
        return self.fc2(self.features(x))


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: conv3x3(stride) bn relu conv3x3 bn, + shortcut, relu."""

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)  # eps 1e-5, momentum 0.1
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()  # a module so golden.py can hook it; no state
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(nn.Module):
    """ResNet with torchvision names.

    stem "cifar": conv1 3x3/1 pad 1, bn1, relu (no max-pool).
    stem "imagenet": conv1 7x7/2 pad 3, bn1, relu, maxpool 3/2/1.
    Stage s has widths[s] channels and blocks[s] BasicBlocks; every stage
    after the first starts with stride 2. Then global average pool and fc.
    """

    def __init__(self, widths, blocks, stem, num_classes, input_shape, mean, std):
        super().__init__()
        c = input_shape[0]
        mean, std = _mean_std(c, mean, std)
        self.normalize = Normalize(mean, std)
        if stem == "cifar":
            self.conv1 = nn.Conv2d(c, widths[0], 3, stride=1, padding=1, bias=False)
            self.maxpool = None
        elif stem == "imagenet":
            self.conv1 = nn.Conv2d(c, widths[0], 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            raise ValueError(f"unknown stem {stem!r}")
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        in_planes = widths[0]
        for index, (planes, count) in enumerate(zip(widths, blocks)):
            stride = 1 if index == 0 else 2
            layer = []
            for b in range(count):
                layer.append(BasicBlock(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes
            setattr(self, f"layer{index + 1}", nn.Sequential(*layer))
        self.num_stages = len(widths)
        self.fc = nn.Linear(in_planes, num_classes)
        # torchvision's initialisation.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def stages(self, x):
        """Per-stage activations: [stem output, layer1, layer2, ...]."""
        x = self.relu(self.bn1(self.conv1(self.normalize(x))))
        if self.maxpool is not None:
            x = self.maxpool(x)
        outputs = [x]
        for index in range(self.num_stages):
            x = getattr(self, f"layer{index + 1}")(x)
            outputs.append(x)
        return outputs

    def features(self, x):
        return torch.flatten(F.adaptive_avg_pool2d(self.stages(x)[-1], 1), 1)

    def forward(self, x):
        return self.fc(self.features(x))


def _mean_std(channels, mean, std):
    if mean is None or std is None:
        if channels not in DEFAULT_MEAN_STD:
            raise ValueError(f"no default mean/std for {channels} channels; pass mean and std")
        default_mean, default_std = DEFAULT_MEAN_STD[channels]
        mean = default_mean if mean is None else mean
        std = default_std if std is None else std
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f"mean/std have {len(mean)}/{len(std)} entries for {channels} input channels")
    return list(mean), list(std)


MODEL_NAMES = ("small-cnn", "resnet8", "resnet20", "resnet18", "resnet18-cifar")


def build_model(name, num_classes=10, input_shape=None, mean=None, std=None):
    """The model `name` with PyTorch default initialisation (torchvision's for ResNets)."""
    input_shape = tuple(input_shape or DEFAULT_INPUT_SHAPE[name])
    if name == "small-cnn":
        return SmallCNN(num_classes, input_shape, mean, std)
    if name == "resnet20":
        return ResNet([16, 32, 64], [3, 3, 3], "cifar", num_classes, input_shape, mean, std)
    if name == "resnet8":
        return ResNet([16, 32, 64], [1, 1, 1], "cifar", num_classes, input_shape, mean, std)
    if name == "resnet18":
        if mean is None and std is None and input_shape[0] == 3:
            mean, std = IMAGENET_MEAN_STD
        return ResNet([64, 128, 256, 512], [2, 2, 2, 2], "imagenet", num_classes, input_shape, mean, std)
    if name == "resnet18-cifar":
        return ResNet([64, 128, 256, 512], [2, 2, 2, 2], "cifar", num_classes, input_shape, mean, std)
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")


def conv_linear_macs(model, input_shape):
    """Multiply-adds of every Conv2d and Linear for one image (forward pass), via hooks."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        else:
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return total
