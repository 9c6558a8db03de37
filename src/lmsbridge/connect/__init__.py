"""The hosted connection flow (Kombo Connect compatible): links, the page behind them, activation."""
