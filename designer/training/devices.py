"""Several devices for one model: ``tf.distribute.MirroredStrategy`` over a machine's GPUs.

The design's ``training.devices`` asks for N replicas of the model, each fed a slice of every
batch (the batch size is the global batch); their gradients are summed before each update.
With N GPUs or more, N of them are used. With none (a laptop, CI), the CPU is split into N
logical devices: slower than one device, but the same code path, so the setting can be tried
and tested anywhere.

Logical devices can only be configured before TensorFlow runs its first operation (even a
``keras.Input`` starts the runtime), so :func:`strategy_for` must be called before anything
builds a model in the process.
"""

from __future__ import annotations

from typing import Any

from designer.training.rundir import TrainingError


def strategy_for(devices: int, warnings: list[str]) -> Any:
    """A MirroredStrategy over ``devices`` devices, or None for one device. Notes what could
    not be given as asked in ``warnings``."""
    if devices <= 1:
        return None
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if len(gpus) < devices:
            warnings.append(
                f"{devices} devices were asked for but this machine has {len(gpus)} "
                f"GPUs: training on {len(gpus)}"
            )
        names = [f"/gpu:{i}" for i in range(min(devices, len(gpus)))]
        if len(names) == 1:
            return None
        return tf.distribute.MirroredStrategy(names)
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
        )
    except RuntimeError:
        # Only if something ran TensorFlow in this process before the job: a bug, not the user's.
        raise TrainingError(
            "cannot split the CPU into devices after TensorFlow has started in this process"
        ) from None
    warnings.append(
        f"no GPU here: the model trains on {devices} logical CPU devices, which is "
        "slower than one (the setting is meant for machines with several GPUs)"
    )
    # On CPUs there is no NCCL: gradients are summed on one device.
    return tf.distribute.MirroredStrategy(
        [f"/cpu:{i}" for i in range(devices)],
        cross_device_ops=tf.distribute.ReductionToOneDevice(),
    )
