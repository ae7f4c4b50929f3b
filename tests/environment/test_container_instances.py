"""Container instances read from templates (environment.container_instances).

Pages: ECS guide, "Amazon ECS container agent configuration" (ECS_CLUSTER, else the ``default``
cluster); CloudFormation reference for AWS::AutoScaling::AutoScalingGroup (VPCZoneIdentifier,
LaunchTemplate, MixedInstancesPolicy), AWS::EC2::LaunchTemplate (LaunchTemplateData.MetadataOptions,
NetworkInterfaces.AssociatePublicIpAddress), AWS::EC2::SpotFleet, AWS::ECS::CapacityProvider; EC2
guide, "Amazon EC2 instance IP addressing" (MapPublicIpOnLaunch).
"""

from __future__ import annotations

from pathlib import Path

from accesspath.cfn.stacks import TemplateSource, load_stacks
from accesspath.environment.container_instances import has_imds_iptables_block
from accesspath.environment.from_templates import build_environment
from accesspath.environment.model import Environment, Instance

NETWORK = """
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Public:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24, MapPublicIpOnLaunch: true}
  Private:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: instance-role
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
  Cluster:
    Type: AWS::ECS::Cluster
    Properties: {ClusterName: jobs}
"""


def environment(resources: str, tmp_path: Path | None = None) -> Environment:
    text = "Resources:" + NETWORK + resources
    return build_environment(load_stacks([TemplateSource.from_text(text, source="stack.yaml")]))


def only(env: Environment, logical_id: str) -> Instance:
    return next(i for i in env.instances.values() if i.logical_id == logical_id)


def test_mixed_instances_policy_launch_template_with_public_interface() -> None:
    env = environment("""
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        IamInstanceProfile: {Name: !Ref Profile}
        NetworkInterfaces: [{DeviceIndex: 0, AssociatePublicIpAddress: true}]
        MetadataOptions: {HttpTokens: required, HttpPutResponseHopLimit: 2, HttpEndpoint: enabled}
        UserData: !Base64
          Fn::Sub: "#!/bin/bash\\necho ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config\\necho ECS_ENABLE_TASK_IAM_ROLE=false >> /etc/ecs/ecs.config\\n"
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: '1'
      MaxSize: '2'
      VPCZoneIdentifier: [!Ref Private]
      MixedInstancesPolicy:
        LaunchTemplate:
          LaunchTemplateSpecification: {LaunchTemplateId: !Ref Template, Version: !GetAtt Template.LatestVersionNumber}
""")
    group = only(env, "Group")
    assert group.source == "auto-scaling-group" and group.cluster == "jobs" and group.role_name == "instance-role"
    assert group.public_ip is True          # the interface's AssociatePublicIpAddress wins over the subnet
    assert (group.http_tokens, group.hop_limit, group.http_endpoint) == ("required", 2, "enabled")
    assert group.agent_setting("ECS_ENABLE_TASK_IAM_ROLE") == "false" and not group.unread


def test_plain_instance_without_ecs_cluster_joins_default_and_gets_a_public_ip_from_its_subnet() -> None:
    env = environment("""
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-1
      SubnetId: !Ref Public
      IamInstanceProfile: !Ref Profile
""")
    host = only(env, "Host")
    # The role carries AmazonEC2ContainerServiceforEC2Role: an ECS host; without ECS_CLUSTER, "default".
    assert host.cluster == "default" and host.public_ip is True


def test_instance_that_is_not_a_container_instance_joins_no_cluster() -> None:
    env = environment("""
  Bastion:
    Type: AWS::EC2::Instance
    Properties: {ImageId: ami-1, SubnetId: !Ref Private}
""")
    assert only(env, "Bastion").cluster is None


def test_spot_fleet_launch_specification() -> None:
    env = environment("""
  Fleet:
    Type: AWS::EC2::SpotFleet
    Properties:
      SpotFleetRequestConfigData:
        IamFleetRole: arn:aws:iam::123456789012:role/fleet
        TargetCapacity: 2
        LaunchSpecifications:
          - ImageId: ami-1
            InstanceType: c5.large
            SubnetId: !Join [',', [!Ref Private, !Ref Public]]
            IamInstanceProfile: {Arn: !GetAtt Profile.Arn}
            UserData: !Base64 "#!/bin/bash\\necho ECS_CLUSTER=spot >> /etc/ecs/ecs.config\\niptables -I DOCKER-USER -i docker+ -d 169.254.169.254 -j DROP\\n"
""")
    fleet = only(env, "Fleet")
    assert fleet.source == "spot-fleet" and fleet.cluster == "spot" and len(fleet.subnet_ids) == 2
    assert fleet.role_name == "instance-role" and fleet.imds_iptables_block is True


def test_user_data_fetched_at_boot_is_unread_and_the_cluster_undetermined() -> None:
    env = environment("""
  Configuration:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties:
      ImageId: ami-1
      InstanceType: c5.large
      IamInstanceProfile: !Ref Profile
      UserData: !Base64 "#!/bin/bash\\naws s3 cp s3://bootstrap/ecs.sh /tmp/ecs.sh && bash /tmp/ecs.sh\\n"
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: '1'
      MaxSize: '2'
      VPCZoneIdentifier: [!Ref Private]
      LaunchConfigurationName: !Ref Configuration
""")
    group = only(env, "Group")
    assert group.cluster is None and any("fetches and runs configuration at boot" in u for u in group.unread)


def test_capacity_provider_names_its_group_and_the_cluster_default_strategy_reaches_services() -> None:
    env = environment("""
  Configuration:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties:
      ImageId: ami-1
      InstanceType: c5.large
      IamInstanceProfile: !Ref Profile
      UserData: !Base64 {"Fn::Sub": "echo ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config"}
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties: {MinSize: '0', MaxSize: '2', VPCZoneIdentifier: [!Ref Private], LaunchConfigurationName: !Ref Configuration}
  Provider:
    Type: AWS::ECS::CapacityProvider
    Properties:
      AutoScalingGroupProvider: {AutoScalingGroupArn: !Ref Group}
  Associations:
    Type: AWS::ECS::ClusterCapacityProviderAssociations
    Properties:
      Cluster: !Ref Cluster
      CapacityProviders: [!Ref Provider]
      DefaultCapacityProviderStrategy: [{CapacityProvider: !Ref Provider, Weight: 1}]
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties: {Family: job, ContainerDefinitions: [{Name: job, Image: busybox, Memory: 64}]}
  Service:
    Type: AWS::ECS::Service
    Properties: {Cluster: !Ref Cluster, TaskDefinition: !Ref Task}
  Pinned:
    Type: AWS::ECS::Service
    Properties: {Cluster: !Ref Cluster, TaskDefinition: !Ref Task, LaunchType: EC2}
""")
    group = only(env, "Group")
    provider = group.capacity_providers[0]
    assert provider.startswith("stack-Provider-") and group.cluster == "jobs"
    services = {s.logical_id: s for s in env.services.values()}
    assert services["Service"].capacity_providers == (provider,)
    assert services["Pinned"].capacity_providers == ()   # a launch type: no default strategy


def test_iptables_rule_must_drop_container_traffic_to_imds() -> None:
    assert has_imds_iptables_block(
        "iptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP")
    assert not has_imds_iptables_block("iptables -A OUTPUT -d 169.254.169.254 -j ACCEPT")
    assert not has_imds_iptables_block("iptables -t nat -A PREROUTING -d 169.254.170.2 -p tcp -j DNAT")
