# The public entry: an Application Load Balancer in the public subnets, HTTPS only (HTTP
# answers a redirect), forwarding to the ingest pods. Pods are registered in the target
# group by the AWS Load Balancer Controller's TargetGroupBinding (README.md; the controller
# is not installed by this configuration).

resource "aws_lb" "ingest" {
  name               = "${var.name}-ingest"
  load_balancer_type = "application"
  internal           = false
  subnets            = aws_subnet.public[*].id
  security_groups    = [aws_security_group.alb.id]

  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  # Below ingest's keep-alive timeout (http.idle_timeout_ms, 30 s): the load balancer must
  # close an idle connection before the pod does, or it may send on a closed one (502).
  idle_timeout = 25
}

resource "aws_lb_target_group" "ingest" {
  name        = "${var.name}-ingest"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.this.id

  # ingest's preStop sleeps 5 s, then drains for up to 15 s (shutdown.drain_timeout_ms).
  deregistration_delay = 20

  health_check {
    path                = "/readyz"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.ingest.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.tls_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.ingest.arn
  }
}

# Port 80 serves nothing: every request is told to come back over HTTPS.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.ingest.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# As compose's proxy: /metrics is for Prometheus inside the cluster, not for the internet.
resource "aws_lb_listener_rule" "no_metrics" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }
}
