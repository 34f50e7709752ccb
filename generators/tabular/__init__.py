"""Tabular synthesizers: a plain library (numpy, pandas, scipy, torch, opacus), no Django.

```python
from generators.tabular import Metadata, MarginalSynthesizer, load
model = MarginalSynthesizer(epsilon=3.0, random_state=0).fit(table, metadata)
rows = model.sample(1000, seed=1)
model.privacy_        # epsilon, delta and the accountant's record (DP fits)
model.save("folder")  # model.safetensors + model.json; load("folder") gives it back
```
"""

from generators.tabular.base import TabularSynthesizer, load
from generators.tabular.copula import GaussianCopula
from generators.tabular.marginal import MarginalSynthesizer
from generators.tabular.metadata import Column, Metadata
from generators.tabular.tvae import TVAE

__all__ = ["TVAE", "Column", "GaussianCopula", "MarginalSynthesizer", "Metadata", "TabularSynthesizer", "load"]
