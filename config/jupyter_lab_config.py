# JupyterLab settings of `make lab` (passed with --config; see helpers/running/lab.py).
# Source notebooks are pipeline inputs and are committed without outputs: save them so.
c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
c.ContentsManager.pre_save_hook = "helpers.running.lab.strip_outputs"
c.MappingKernelManager.default_kernel_name = "borgerservice"
