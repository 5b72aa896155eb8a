//! Comparing trees without their positions.

use crate::ast::{Expr, MetricQuery, Request, Span};

impl Request {
    /// A copy with every span set to [`Span::default`], to compare trees
    /// parsed from differently spelled text (`a+b` and `a + b`).
    pub fn without_spans(&self) -> Request {
        Request {
            exprs: self.exprs.iter().map(Expr::without_spans).collect(),
        }
    }
}

impl Expr {
    /// A copy with every span set to [`Span::default`].
    pub fn without_spans(&self) -> Expr {
        let span = Span::default();
        match self {
            Expr::Number { value, .. } => Expr::Number {
                value: *value,
                span,
            },
            Expr::Query(q) => Expr::Query(Box::new(q.without_spans())),
            Expr::Ref { name, .. } => Expr::Ref {
                name: name.clone(),
                span,
            },
            Expr::Binary { op, lhs, rhs, .. } => Expr::Binary {
                op: *op,
                lhs: Box::new(lhs.without_spans()),
                rhs: Box::new(rhs.without_spans()),
                span,
            },
            Expr::Neg { expr, .. } => Expr::Neg {
                expr: Box::new(expr.without_spans()),
                span,
            },
            Expr::Call { func, arg, .. } => Expr::Call {
                func: func.clone(),
                arg: Box::new(arg.without_spans()),
                span,
            },
        }
    }
}

impl MetricQuery {
    /// A copy with its span set to [`Span::default`].
    pub fn without_spans(&self) -> MetricQuery {
        MetricQuery {
            span: Span::default(),
            ..self.clone()
        }
    }
}
